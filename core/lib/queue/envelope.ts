import { fromBytes, toBytes } from "../base/bytes.ts";
import { ok, temp, perm, type Fail, type Result } from "../base/result.ts";
import { QQ, queueFail, type QueueFail, type QueueResult } from "./codes.ts";
import { formatMRecord, formatNRecord, parseMRecord, parseNRecord, type MessageDsn, type RcptDsn } from "./dsn.ts";

/** An envelope as qmail-queue(8) reads it on fd 1. */
export interface Envelope {
  readonly sender: string; // "" is the null sender <>
  readonly recipients: readonly string[];
  /** RFC 3461 parameters (qm's; a qmail-queue program or QMQP server never sees them). */
  readonly dsn?: MessageDsn;
}

/** qmail-queue ADDR: an address field (with its NUL) longer than this is exit 11. */
export const MAX_ADDR = 1003;

const NUL = 0;
const ENDED_EARLY = "Envelope ended early";
const FORMAT_ERROR = "Envelope format error";
const F = 0x46;
const T = 0x54;
const M = 0x4d; // qm's DSN records (dsn.ts)
const N = 0x4e;

/** qmail-queue(8) fd 1: F sender \0 (T recip \0)* \0; with `dsn`, qm's M and N records too (dsn.ts). */
export function encodeEnvelope(env: Envelope, opts: { readonly dsn?: boolean } = {}): Uint8Array {
  return toBytes(`${envelopeFields(env, opts.dsn ?? false).join("\0")}\0\0`);
}

/** The records of an envelope: F, then M when there are DSN parameters, then (N) T per recipient. */
export function envelopeFields(env: Envelope, dsn: boolean): string[] {
  const d = dsn ? env.dsn : undefined;
  const m = d ? formatMRecord(d) : null;
  const out = [`F${env.sender}`, ...(m ? [m] : [])];
  for (const r of env.recipients) {
    const n = d ? formatNRecord(d.rcpts.get(r)) : null;
    if (n) out.push(n);
    out.push(`T${r}`);
  }
  return out;
}

/**
 * Decodes fd-1 bytes the way qmail-queue reads them: 91 for a bad letter,
 * 11 for an address of MAX_ADDR bytes or more without its NUL, 54 for an
 * envelope cut short. Addresses are byte strings (bytes.ts).
 */
export function decodeEnvelope(bytes: Uint8Array): Result<Envelope> {
  if (bytes.length === 0) return temp(ENDED_EARLY, "4.3.0");
  if (bytes[0] !== F) return temp(FORMAT_ERROR, "4.3.0");
  const fields: string[] = [];
  let i = 0;
  let ret: { ret?: "FULL" | "HDRS"; envid?: string } | null = null;
  let pendingN: RcptDsn | null = null;
  const rcpts = new Map<string, RcptDsn>();
  for (;;) {
    if (i >= bytes.length) return temp(ENDED_EARLY, "4.3.0");
    if (fields.length > 0 && bytes[i] === NUL) break;
    const letter = bytes[i];
    if (fields.length > 0 && letter !== T && !(letter === M && fields.length === 1 && !ret) && !(letter === N && !pendingN)) return temp(FORMAT_ERROR, "4.3.0");
    const end = bytes.indexOf(NUL, i + 1);
    const limit = Math.min(bytes.length, i + 1 + MAX_ADDR);
    if (end < 0 || end >= limit) {
      if (bytes.length - (i + 1) >= MAX_ADDR) return perm("Address too long", "5.1.3");
      return temp(ENDED_EARLY, "4.3.0");
    }
    const text = fromBytes(bytes.subarray(i + 1, end));
    i = end + 1;
    if (fields.length > 0 && letter === M) {
      ret = parseMRecord(text);
      if (!ret) return temp(FORMAT_ERROR, "4.3.0");
      continue;
    }
    if (fields.length > 0 && letter === N) {
      pendingN = parseNRecord(text);
      if (!pendingN) return temp(FORMAT_ERROR, "4.3.0");
      continue;
    }
    if (pendingN && !rcpts.has(text)) rcpts.set(text, pendingN);
    pendingN = null;
    fields.push(text);
  }
  if (i !== bytes.length - 1 || pendingN) return temp(FORMAT_ERROR, "4.3.0");
  const [sender = "", ...recipients] = fields;
  if (!ret && rcpts.size === 0) return ok({ sender, recipients });
  return ok({ sender, recipients, dsn: { ...ret, rcpts } });
}

/** qmail-queue's exit code for an envelope decodeEnvelope() refused: 11 too long, 54 cut short, 91 malformed. */
export function envelopeFail(f: Fail): QueueFail {
  if (f.kind === "perm") return queueFail(QQ.addressTooLong, f.reason);
  return queueFail(f.reason === ENDED_EARLY ? QQ.readError : QQ.envelopeFormat, f.reason);
}

/** An address enqueue() would refuse (11), as decodeEnvelope() would: more than MAX_ADDR bytes with its NUL, or a NUL inside. */
export function badAddress(env: Envelope): string | null {
  for (const a of [env.sender, ...env.recipients]) if (a.length >= MAX_ADDR || a.includes("\0")) return a;
  return null;
}

/** Where the bytes come from: the next chunk, or null at the end. */
export type ChunkSource = () => Promise<Uint8Array | null>;

/** An envelope read off the front of a stream: the bytes after it in the last chunk read are `rest`. */
export interface EnvelopeRead {
  readonly envelope: Envelope;
  readonly length: number;
  readonly rest: Uint8Array;
}

/**
 * The one reader of an fd-1 envelope from a stream (qm queue's fd 1, an
 * older maildrop file): reads chunks until the NUL that ends it, keeps them
 * in a list and joins them once, so the work is linear in the bytes read.
 * More than `max` bytes without the end is a format error (91).
 */
export async function readEnvelope(next: ChunkSource, max: number): Promise<QueueResult<EnvelopeRead>> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let fieldStart = true; // the byte before was a NUL (or there was none)
  for (;;) {
    const chunk = await next();
    if (chunk === null) break;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (c === NUL && fieldStart && total + i > 0) {
        const head = join([...chunks, chunk.subarray(0, i + 1)], total + i + 1);
        const env = decodeEnvelope(head);
        if (env.kind !== "ok") return envelopeFail(env);
        return { kind: "ok", value: { envelope: env.value, length: head.length, rest: chunk.subarray(i + 1) } };
      }
      fieldStart = c === NUL;
    }
    chunks.push(chunk);
    total += chunk.length;
    if (total > max) return queueFail(QQ.envelopeFormat, "envelope too large");
  }
  const env = decodeEnvelope(join(chunks, total)); // the stream ended first: decodeEnvelope says how
  return env.kind === "ok" ? { kind: "ok", value: { envelope: env.value, length: total, rest: new Uint8Array(0) } } : envelopeFail(env);
}

function join(chunks: readonly Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]!.length === length) return chunks[0]!;
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    const part = c.subarray(0, length - at);
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** One address: the local part as written, the domain in lower case (RFC 5321 2.4: only the domain is case-blind). */
export function recipientKey(address: string): string {
  const at = address.lastIndexOf("@");
  return at < 0 ? address : address.slice(0, at + 1) + address.slice(at + 1).toLowerCase();
}

/** The envelope with each recipient once (the first of those with one recipientKey()), in order. */
export function uniqueRecipients(env: Envelope): Envelope {
  const seen = new Set<string>();
  const recipients = env.recipients.filter((r) => {
    const k = recipientKey(r);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return recipients.length === env.recipients.length ? env : { ...env, recipients };
}
