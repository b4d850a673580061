/**
 * qmail-qstat's and qmail-qread's output (docs/qmail.md §9), and the tolerant
 * readers of the queue records they show. qm also lists messages still in
 * todo/ (not yet preprocessed by qm send), their recipients on the channel
 * `todo`, so a message is visible from the moment inject exits 0.
 */
import { formatDate822 } from "../base/date822.ts";

export type Channel = "local" | "remote" | "todo";
export interface Recipient {
  readonly channel: Channel;
  readonly done: boolean;
  readonly addr: string;
  /** Unix seconds: the next attempt (the channel file's mtime), while not done. */
  readonly nextTry?: number;
  /** From the status record (status.ts), once a delivery to it was deferred. */
  readonly attempts?: number;
  readonly lastTry?: number;
  readonly error?: string;
}
export interface QueuedMessage {
  readonly id: number;
  /** ms since the epoch: the info file's mtime (the message's birth), or the todo file's */
  readonly time: number;
  readonly size: number;
  readonly sender: string;
  readonly bouncing: boolean;
  /** A hold or delete mark (qm-qctl(8)): not delivered until released. */
  readonly held?: boolean;
  readonly recipients: readonly Recipient[];
}
export interface QueueCounts {
  readonly mess: number;
  readonly todo: number;
  readonly maildrop: number;
}

/** qmail-qstat's two lines; a third only when maildrop/ holds submissions not yet taken in. */
export function formatQstat(c: QueueCounts): string {
  const lines = [`messages in queue: ${c.mess}\n`, `messages in queue but not yet preprocessed: ${c.todo}\n`];
  if (c.maildrop > 0) lines.push(`messages in maildrop not yet taken in: ${c.maildrop}\n`);
  return lines.join("");
}

/** Bytes outside 32..126 print as `_`. */
export function safe(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, "_");
}

/**
 * `29 Nov 2026 10:37:21 GMT  #12345  678  <sender> ` + ` bouncing` + ` held`,
 * then one line per recipient, and for a recipient with deferred attempts a
 * second line: `\t\t3 attempts, next try 29 Nov 2026 11:02:00 GMT: <last error>`.
 */
export function formatMessage(m: QueuedMessage): string {
  let out = `${gmt(m.time)}  #${m.id}  ${m.size}  <${safe(m.sender)}> ${m.bouncing ? " bouncing" : ""}${m.held ? " held" : ""}\n`;
  for (const r of m.recipients) {
    out += `${r.done ? "  done" : ""}\t${r.channel}\t${safe(r.addr)}\n`;
    if (!r.done && r.attempts) {
      const next = r.nextTry === undefined ? "" : `, next try ${gmt(r.nextTry * 1000)}`;
      out += `\t\t${r.attempts} attempt${r.attempts === 1 ? "" : "s"}${next}: ${oneLine(r.error ?? "")}\n`;
    }
  }
  return out;
}

function gmt(ms: number): string {
  return `${formatDate822(ms).replace(/ -0000$/, "")} GMT`;
}

/** A report text on one line: line breaks become " / ", other unprintable bytes "_". */
export function oneLine(text: string): string {
  return safe(text.replace(/\s*\n\s*(?=.)/g, " / ").replace(/\n+$/, ""));
}

export function formatTrouble(id: number, reason: string): string {
  return `warning: trouble with #${id}: ${reason}\n`;
}

/** Records of a local/ or remote/ file: `T<addr>\0` pending, `D<addr>\0` done; anything else is skipped. */
export function parseChannelFile(text: string, channel: Channel): Recipient[] {
  const out: Recipient[] = [];
  for (const rec of text.split("\0")) {
    if (rec[0] === "T" || rec[0] === "D") out.push({ channel, done: rec[0] === "D", addr: rec.slice(1) });
  }
  return out;
}

/** An info file `F<sender>\0`: the sender, or null when the file is damaged. */
export function parseInfo(text: string): string | null {
  return text.startsWith("F") ? text.slice(1).split("\0")[0]! : null;
}

/** A todo file `u<uid>\0p<pid>\0F<sender>\0T<r>\0...`: sender and recipients, or null when damaged. */
export function parseTodo(text: string): { sender: string; recipients: Recipient[] } | null {
  let sender: string | null = null;
  const recipients: Recipient[] = [];
  for (const rec of text.split("\0")) {
    if (rec[0] === "F" && sender === null) sender = rec.slice(1);
    else if (rec[0] === "T") recipients.push({ channel: "todo", done: false, addr: rec.slice(1) });
  }
  return sender === null ? null : { sender, recipients };
}
