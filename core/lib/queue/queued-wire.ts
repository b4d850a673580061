/**
 * The words between a listener and `qm queued` on queue/lock/queued/socket
 * (qm-queued(8)). One message a connection, in the order qmail-queue reads
 * its input, so the server streams the message into the queue as it comes:
 *
 *   server: "qm queued 1\n"                      the greeting (ready)
 *   client: "1 <uid> <who>\n"                    who: network | bounce | alias | uid
 *   client: "<n>\n" then n bytes, repeated       the message in chunks, 1 <= n <= MAX_CHUNK
 *   client: "0\n"                                the end of the message
 *   client: "<n>\n" then n bytes                 the envelope, qmail-queue's fd-1 form, n <= MAX_ENVELOPE (maildrop.ts)
 *   server: "K<id>\n" | "Z<code> <text>\n" | "D<code> <text>\n"
 *
 * Lengths are decimal, without leading zeros. The client waits for the
 * greeting before it sends a byte, so a busy or absent server costs it
 * nothing: it can still use maildrop/. Codes are qmail-queue's (codes.ts).
 */
import { queueFail, type QueueResult } from "./codes.ts";

export const GREETING = "qm queued 1\n";
/** A chunk of the message is at most this long; the client cuts larger ones. */
export const MAX_CHUNK = 1 << 20;
/** A line (hello, length, reply) is at most this long, its newline included. */
export const MAX_LINE = 1100;

export type Who = "network" | "bounce" | "alias" | "uid";
export interface Hello {
  readonly uid: number;
  readonly who: Who;
}

const WHO = new Set<string>(["network", "bounce", "alias", "uid"]);

export function formatHello(h: Hello): string {
  return `1 ${h.uid} ${h.who}\n`;
}

/** The client's first line, without its newline; null when it is not one. */
export function parseHello(line: string): Hello | null {
  const m = /^1 (0|[1-9]\d{0,9}) ([a-z]{1,10})$/.exec(line);
  if (!m || !WHO.has(m[2]!)) return null;
  const uid = Number(m[1]);
  return uid <= 0xffffffff ? { uid, who: m[2] as Who } : null;
}

/** A length line, without its newline: 0 <= n <= max, or null. */
export function parseLength(line: string, max: number): number | null {
  if (!/^(0|[1-9]\d{0,9})$/.test(line)) return null;
  const n = Number(line);
  return n <= max ? n : null;
}

/** The server's answer: the queue id, or the failure with qmail-queue's code and text on one line. */
export function formatReply(r: QueueResult<{ id: number }>): string {
  if (r.kind === "ok") return `K${r.value.id}\n`;
  const text = r.reason.replace(/[\r\n\0]+/g, " ").slice(0, MAX_LINE - 16);
  return `${r.kind === "perm" ? "D" : "Z"}${r.code} ${text}\n`;
}

/**
 * A reply line, without its newline. The code decides the class and status
 * (queueFail), the text after it is the server's reason; a line that is not
 * a reply is a temporary failure (it was never acknowledged).
 */
export function parseReply(line: string): QueueResult<{ id: number }> {
  const k = /^K([1-9]\d{0,15})$/.exec(line);
  if (k) return { kind: "ok", value: { id: Number(k[1]) } };
  const f = /^([ZD])([1-9]\d{0,2}) (.*)$/s.exec(line);
  if (!f) return queueFail(74, "qm queued sent a reply that is not one");
  const got = queueFail(Number(f[2]));
  // the letter and the code must agree: a permanent refusal is never made of a line that contradicts itself
  if ((f[1] === "D") !== (got.kind === "perm")) return queueFail(74, "qm queued sent a reply whose letter and code disagree");
  const reason = f[3]!.replace(/[\r\n\0]+/g, " ") || got.reason; // the server's reason, which starts with the table's text
  return { ...got, reason };
}
