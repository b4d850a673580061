/**
 * NUL-terminated field framing under qm's internal pipes: a frame is a fixed
 * number of fields, each ending in NUL, optionally followed by a counted
 * body. The typed wires on top: core/lib/send/spawn-wire.ts (send <->
 * lspawn/rspawn) and core/lib/local/wire.ts (lspawn <-> local worker).
 * Fields are byte strings (bytes.ts).
 */
import { fromBytes, toBytes } from "./bytes.ts";

export interface Frame {
  readonly fields: readonly string[];
  readonly body: Uint8Array | null;
}
export type FrameEvent = { readonly kind: "frame"; readonly frame: Frame } | { readonly kind: "error"; readonly reason: string };

export interface FrameReader {
  push(chunk: Uint8Array): FrameEvent[];
  /** True when a frame has started and not finished. */
  partial(): boolean;
}

/**
 * `count` NUL-terminated fields; with `bodyField`, that field is a decimal
 * length and that many bytes follow. A field longer than maxField, or a
 * length over maxBody, is an error and the reader stops.
 */
export function createFrameReader(count: number, opts: { bodyField?: number; maxField?: number; maxBody?: number } = {}): FrameReader {
  const maxField = opts.maxField ?? 65536;
  const maxBody = opts.maxBody ?? 0;
  let fields: string[] = [];
  let cur: number[] = [];
  let body: Uint8Array | null = null;
  let got = 0;
  let dead = false;
  return {
    partial: () => fields.length > 0 || cur.length > 0 || body !== null,
    push(chunk) {
      const events: FrameEvent[] = [];
      let i = 0;
      while (i < chunk.length && !dead) {
        if (body) {
          const n = Math.min(body.length - got, chunk.length - i);
          body.set(chunk.subarray(i, i + n), got);
          got += n;
          i += n;
          if (got === body.length) { events.push({ kind: "frame", frame: { fields, body } }); fields = []; body = null; }
          continue;
        }
        const c = chunk[i++]!;
        if (c !== 0) {
          if (cur.length >= maxField) { dead = true; events.push({ kind: "error", reason: "field too long" }); break; }
          cur.push(c);
          continue;
        }
        fields.push(fromBytes(Uint8Array.from(cur)));
        cur = [];
        if (fields.length < count) continue;
        if (opts.bodyField === undefined) { events.push({ kind: "frame", frame: { fields, body: null } }); fields = []; continue; }
        const len = fields[opts.bodyField]!;
        if (!/^\d{1,10}$/.test(len) || Number(len) > maxBody) { dead = true; events.push({ kind: "error", reason: "bad length" }); break; }
        body = new Uint8Array(Number(len));
        got = 0;
        if (body.length === 0) { events.push({ kind: "frame", frame: { fields, body } }); fields = []; body = null; }
      }
      return events;
    },
  };
}

/** Fields joined with NULs, each terminated; a NUL inside a field becomes "?" (it would break the framing). */
export function encodeFields(fields: readonly string[]): Uint8Array {
  return toBytes(fields.map((f) => `${f.replace(/\0/g, "?")}\0`).join(""));
}
