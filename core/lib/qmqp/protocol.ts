import { fromBytes, toBytes } from "../base/bytes.ts";
import { parseIPv4, parseIPv6 } from "../base/ip-addr.ts";
import type { Envelope } from "../queue/envelope.ts";
import { concatBytes, decodeAll, decodeNetstring, encodeNetstring } from "./netstring.ts";
import { QQ } from "../queue/codes.ts";
import type { Fail } from "../base/result.ts";

/**
 * QMQP (docs/qmail.md §12), one message a connection. The client sends one
 * netstring holding netstring(message), netstring(sender) and one netstring
 * per recipient; the server answers one netstring: K (queued), Z (try again)
 * or D (refused) and a text.
 */

const QMQP_PORT = 628;
export const MAX_MESSAGE = 200_000_000; // qmail-qmqpd: longer is a temporary refusal
export const MAX_ADDRESS = 999; // an address of 1000 bytes or more poisons the message
export const MAX_ENVELOPE_BYTES = 16 * 1024 * 1024; // what follows the message, held in memory
const MAX_RECIPIENTS = 100_000;
export const MAX_REPLY = 1000;

/** The bytes a client writes: the whole request, message included. */
export function encodeRequest(message: Uint8Array, env: Envelope): Uint8Array {
  const parts = [encodeNetstring(message), ...[env.sender, ...env.recipients].map((a) => encodeNetstring(toBytes(a)))];
  return encodeNetstring(concatBytes(parts));
}

/** The same request in three parts, for a message streamed between `head` and `tail`. */
export function requestFraming(messageLength: number, env: Envelope): { head: Uint8Array; tail: Uint8Array } {
  const inner = toBytes(`${messageLength}:`);
  const addrs = concatBytes([env.sender, ...env.recipients].map((a) => encodeNetstring(toBytes(a))));
  const outer = inner.length + messageLength + 1 + addrs.length;
  return { head: concatBytes([toBytes(`${outer}:`), inner]), tail: concatBytes([toBytes(","), addrs, toBytes(",")]) };
}

export type ReplyCode = "K" | "Z" | "D";
export interface Reply {
  readonly code: ReplyCode;
  readonly text: string;
}

const CODES = new Map<number, ReplyCode>([[0x4b, "K"], [0x5a, "Z"], [0x44, "D"]]);

/** The server's one-netstring answer. Anything else is a failed conversation (null). */
export function decodeReply(bytes: Uint8Array): Reply | null | "more" {
  const d = decodeNetstring(bytes, MAX_REPLY);
  if (d.kind === "more") return "more";
  if (d.kind === "bad" || d.rest.length > 0 || d.value.length === 0) return null;
  const code = CODES.get(d.value[0] ?? 0);
  return code ? { code, text: fromBytes(d.value.subarray(1)) } : null;
}

export function encodeReply(code: ReplyCode, text: string): Uint8Array {
  const line = `${code}${text}`.replace(/[\r\n]+/g, " ").slice(0, MAX_REPLY - 1);
  return encodeNetstring(toBytes(line));
}

/** The reply for a queue result: "Kok <unixtime> qp <pid>", or the failure's text. */
export function replyFor(result: { kind: "ok"; qp: number; id?: number } | Fail, nowMs: number): Uint8Array {
  if (result.kind === "ok") return encodeReply("K", `ok ${Math.floor(nowMs / 1000)} qp ${result.qp}${result.id === undefined ? "" : ` msg ${result.id}`}`);
  return encodeReply(result.kind === "perm" ? "D" : "Z", `${result.reason}. (#${result.status})`);
}

export type EnvelopeParse =
  | { readonly kind: "ok"; readonly env: Envelope }
  | { readonly kind: "poison" } // framing fine, an address is unacceptable: answer D
  | { readonly kind: "bad"; readonly reason: string }; // broken framing: hang up

/** The sender and recipient netstrings that follow the message inside the outer netstring. */
export function decodeEnvelopePart(bytes: Uint8Array): EnvelopeParse {
  const all = decodeAll(bytes, MAX_ENVELOPE_BYTES, MAX_RECIPIENTS + 1);
  if (all.kind !== "ok") return all;
  const [sender, ...recipients] = all.values;
  if (sender === undefined) return { kind: "bad", reason: "no sender" };
  if (all.values.some((v) => v.length > MAX_ADDRESS || v.includes(0))) return { kind: "poison" };
  return { kind: "ok", env: { sender: fromBytes(sender), recipients: recipients.map(fromBytes) } };
}

/** qmail-qmqpc's exit code for a server's reply: K queued, Z try the next server, D refused for good. */
export function clientCode(reply: Reply | null): number {
  if (reply === null) return QQ.conversationFailed;
  return reply.code === "K" ? QQ.ok : reply.code === "Z" ? QQ.tempRefused : QQ.refused;
}

/** One control/qmqpservers line: IPv4, IPv6 (bracketed when a port follows), optional ":port". */
export function parseServer(line: string): { host: string; port: number } | null {
  const m = /^\[([0-9A-Fa-f:.]+)\](?::(\d{1,5}))?$/.exec(line) ?? /^([0-9.]+)(?::(\d{1,5}))?$/.exec(line) ?? /^([0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)()$/.exec(line);
  if (!m) return null;
  const host = m[1] ?? "";
  const port = m[2] ? Number(m[2]) : QMQP_PORT;
  if (port < 1 || port > 65535) return null;
  if (!(host.includes(":") ? parseIPv6(host) : parseIPv4(host))) return null;
  return { host, port };
}
