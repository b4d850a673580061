/**
 * qmail-remote(8)'s output (docs/qmail.md §5.2) and qmail-rspawn's report built
 * from it (§5.1). A record is a letter, text, then NUL: per recipient `r`
 * (accepted), `h` (permanent), `s` (temporary); then one message record
 * `K`, `Z` or `D`.
 */
import type { Reply } from "./smtp-wire.ts";

export type RecipientLetter = "r" | "h" | "s";
export type MessageLetter = "K" | "Z" | "D";
export type Letter = RecipientLetter | MessageLetter;
export interface Record {
  readonly letter: Letter;
  readonly text: string;
}

/** qmail-remote caps the remote text it repeats. */
const REMOTE_TEXT_MAX = 5000;

/** "<letter><text>\0"; a NUL inside the text becomes "?" so the framing holds. */
export function formatRecord(r: Record): string {
  return `${r.letter}${r.text.replace(/\0/g, "?")}\0`;
}

/** Splits NUL-terminated records; an unterminated tail is dropped. */
export function parseRecords(text: string): Record[] {
  const parts = text.split("\0");
  parts.pop();
  return parts.map((p) => ({ letter: (p[0] ?? "?") as Letter, text: p.slice(1) }));
}

/** "Remote host said: <every reply line>\n": CR gone, NUL → "?", at most REMOTE_TEXT_MAX bytes. */
export function remoteSaid(reply: Reply | null): string {
  if (!reply) return "";
  const said = `Remote host said: ${reply.lines.join("\n")}`.replace(/[\r]/g, "").replace(/\0/g, "?");
  return `${said.slice(0, REMOTE_TEXT_MAX)}\n`;
}

/** A message record about a host: "<prefix><ip><suffix>.\n" + the remote text. */
export function hostRecord(letter: MessageLetter, prefix: string, ip: string, suffix: string, reply: Reply | null): Record {
  return { letter, text: `${prefix}${ip}${suffix}.\n${remoteSaid(reply)}` };
}

/** The per-recipient record for RCPT's reply. */
export function recipientRecord(ip: string, reply: Reply): Record {
  if (reply.code < 400) return { letter: "r", text: "" };
  return { letter: reply.code >= 500 ? "h" : "s", text: `${ip} does not like recipient.\n${remoteSaid(reply)}` };
}

/** The message records that need no host, keyed by situation (texts as qmail-remote's). */
export const MESSAGE = {
  dnsTemp: { letter: "Z", text: "Sorry, I couldn't find any host by that name. (#4.1.2)\n" },
  cnameTemp: { letter: "Z", text: "CNAME lookup failed temporarily. (#4.4.3)\n" },
  noMx: { letter: "D", text: "Sorry, I couldn't find a mail exchanger or IP address. (#5.4.4)\n" },
  nullMx: { letter: "D", text: "Sorry, the domain says it accepts no mail (null MX). (#5.1.10)\n" },
  noConn: { letter: "Z", text: "Sorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n" },
  // qmail says D #5.4.6; issue 6 asks for a temporary failure: an MX that loops back may be a transient misconfiguration.
  selfMx: {
    letter: "Z",
    text: "Sorry. Although I'm listed as a best-preference MX or A for that host,\nit isn't in my control/locals file, so I don't treat it as local. (#4.4.6)\n",
  },
  partialLine: { letter: "D", text: "SMTP cannot transfer messages with partial final lines. (#5.6.2)\n" },
  usage: { letter: "D", text: "I (qm remote) was invoked improperly. (#5.3.5)\n" },
  control: { letter: "Z", text: "Unable to read control files. (#4.3.0)\n" },
  oserr: { letter: "Z", text: "System resources temporarily unavailable. (#4.3.0)\n" },
  badSender: { letter: "D", text: "Sorry, the sender address contains CR, LF or NUL. (#5.1.7)\n" },
} as const satisfies { readonly [k: string]: Record };

/** DNS permanent failure names the host it could not find. */
export function dnsPermRecord(host: string): Record {
  return { letter: "D", text: `Sorry, I couldn't find any host named ${host.replace(/[^\x21-\x7e]/g, "?")}. (#5.1.2)\n` };
}

/** The connection died: after the final dot was sent the message may already be delivered. */
export function droppedRecord(ip: string, critical: boolean): Record {
  return { letter: "Z", text: `Connected to ${ip} but connection died. ${critical ? "Possible duplicate! " : ""}(#4.4.2)\n` };
}

const RANK = new Map<string, number>([["K", 1], ["Z", 0], ["D", -1]]);
const LETTER = new Map<number, MessageLetter>([[1, "K"], [0, "Z"], [-1, "D"]]);

/**
 * qmail-rspawn's report for one recipient from qmail-remote's records: the
 * letter of the first message record, overridden by `s` (Z) or `h` (D) in
 * the first record; text of the first record, and the message record's text
 * when it is not more final than the overridden letter.
 */
export function synthesizeReport(records: readonly Record[]): { letter: MessageLetter; text: string } {
  const first = records[0];
  if (!first) return { letter: "Z", text: "qm remote produced no output.\n" };
  const msgIndex = records.findIndex((r) => RANK.has(r.letter));
  const result = msgIndex < 0 ? -1 : (RANK.get(records[msgIndex]!.letter) ?? -1);
  const orr = first.letter === "s" ? 0 : first.letter === "h" ? -1 : result;
  let text = first.text;
  if (msgIndex > 0 && result <= orr) text += records[msgIndex]!.text;
  return { letter: LETTER.get(orr) ?? "Z", text };
}
