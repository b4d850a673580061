/**
 * The spawn protocol between `qm send` and `qm lspawn`/`qm rspawn`
 * (docs/architecture.md §4, docs/qmail.md §2.5 made text-safe): command
 * `slot\0path\0sender\0recipient\0`, report `slot\0<K|Z|D>text\0`; and one
 * command with the slot `reload` and empty fields, which asks the spawner to
 * read its control files again (send's SIGHUP) and gets no report. Both ends
 * use this file: send encodes commands and reads reports
 * (core/io/send/spawner.ts), the spawners read commands and encode reports
 * (spawn-loop.ts). Strings are byte strings (bytes.ts).
 */
import { createFrameReader, encodeFields } from "../base/frame.ts";

/** One delivery asked of a spawner; `slot` is kept as sent, to be echoed in the report. */
export interface Command {
  readonly slot: string;
  readonly path: string;
  readonly sender: string;
  readonly recipient: string;
}
export type Letter = "K" | "Z" | "D";
/** A spawner's answer for one command. */
export interface Outcome {
  readonly letter: Letter;
  readonly text: string;
}
export interface Report {
  readonly slot: number;
  readonly letter: Letter | "?";
  readonly text: string;
}

/**
 * The line remote delivery adds to a success report when the server it gave
 * the message to does not offer DSN and some recipient asked for NOTIFY=SUCCESS:
 * the queue manager then sends the sender a "relayed" notice (RFC 3461 §4.1).
 */
export const RELAYED_NOTE = "The next server does not offer DSN: no delivery notice will come from it.\n";

/** qmail-send keeps at most this much of a report's text. */
export const MAX_REPORT = 10000;
/** A command field longer than this stops the spawner's reader (a path is at most ~4000). */
export const MAX_COMMAND_FIELD = 4096;
/**
 * Recipients of one message at one domain that qm send starts back to back
 * share one remote transaction (qm rspawn groups them) and one unit of
 * control/concurrencyremote, up to this many.
 */
export const GROUP_MAX = 50;
/** Slot numbers are decimal; send uses 0..concurrency-1 (remote: 0..concurrency*GROUP_MAX-1). */
export const SLOT = /^\d{1,6}$/;
// A report longer than this (slot + text) without its NULs is garbage: drop the buffer.
const MAX_PENDING = 1 << 20;

/** The slot of the reload command: not a number, so a spawner that did not know it would refuse it. */
export const RELOAD = "reload";

export function encodeReload(): string {
  return `${RELOAD}\0\0\0\0`;
}

export function encodeCommand(slot: number, path: string, sender: string, recipient: string): string {
  return `${slot}\0${path}\0${sender}\0${recipient}\0`;
}

/** Splits the command stream into commands; an overlong field ends the stream (nothing after it is read). */
export function commandReader(): (chunk: Uint8Array) => Command[] {
  const frames = createFrameReader(4, { maxField: MAX_COMMAND_FIELD });
  return (chunk) => {
    const out: Command[] = [];
    for (const ev of frames.push(chunk)) {
      if (ev.kind !== "frame") continue;
      const [slot = "", path = "", sender = "", recipient = ""] = ev.frame.fields;
      out.push({ slot, path, sender, recipient });
    }
    return out;
  };
}

/** One report; a NUL inside the text becomes "?" (it would end the report early). */
export function encodeReport(slot: string, o: Outcome): Uint8Array {
  return encodeFields([slot, o.letter + o.text]);
}

/**
 * Splits a report stream into reports; feed it chunks as they come. A slot
 * that is not a decimal number yields slot -1; a text without K/Z/D yields "?".
 */
export function reportReader(): (chunk: string) => Report[] {
  let buf = "";
  return (chunk) => {
    buf += chunk;
    const out: Report[] = [];
    for (;;) {
      const a = buf.indexOf("\0");
      if (a < 0) break;
      const b = buf.indexOf("\0", a + 1);
      if (b < 0) break;
      const slotText = buf.slice(0, a);
      const body = buf.slice(a + 1, b);
      buf = buf.slice(b + 1);
      const slot = SLOT.test(slotText) ? Number(slotText) : -1;
      const c = body[0];
      const letter = c === "K" || c === "Z" || c === "D" ? c : "?";
      out.push({ slot, letter, text: body.slice(1, 1 + MAX_REPORT) });
    }
    if (buf.length > MAX_PENDING) buf = "";
    return out;
  };
}
