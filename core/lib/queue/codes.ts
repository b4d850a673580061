import { perm, temp, type Fail } from "../base/result.ts";

/**
 * qmail-queue(8)'s exit codes (docs/qmail.md §1.4): 0 queued, 11–40 permanent,
 * everything else temporary. One table, used by `qm queue` to exit and by
 * every caller of a queue program to explain its status.
 */
export const QQ = {
  ok: 0,
  addressTooLong: 11,
  refused: 31,
  noMemory: 51,
  timeout: 52,
  writeError: 53,
  readError: 54,
  noConfig: 55,
  noConnect: 56,
  homeTrouble: 61,
  queueTrouble: 62,
  pidTrouble: 63,
  messTrouble: 64,
  intdTrouble: 65,
  todoTrouble: 66,
  tempRefused: 71,
  connectTimeout: 72,
  connectRefused: 73,
  conversationFailed: 74,
  bug: 81,
  customText: 82,
  envelopeFormat: 91,
  legacyTooLong: 115,
  cannotExec: 120,
} as const;

const TEXT = new Map<number, Fail>([
  [11, perm("Envelope address too long for qq", "5.1.3")],
  [115, perm("Envelope address too long for qq", "5.1.3")],
  [31, perm("Mail server permanently rejected message", "5.3.0")],
  [51, temp("Out of memory", "4.3.0")],
  [52, temp("Timeout", "4.3.0")],
  [53, temp("Write error or disk full", "4.3.0")],
  [54, temp("Unable to read message or envelope", "4.3.0")],
  [55, temp("Unable to read configuration", "4.3.0")],
  [56, temp("Unable to make network connection", "4.3.0")],
  [61, temp("Trouble with the qm home directory", "4.3.0")],
  [62, temp("Trouble with the queue directory", "4.3.0")],
  [63, temp("Trouble creating files in queue", "4.3.0")],
  [64, temp("Trouble creating files in queue", "4.3.0")],
  [65, temp("Trouble creating files in queue", "4.3.0")],
  [66, temp("Trouble creating files in queue", "4.3.0")],
  [71, temp("Mail server temporarily rejected message", "4.3.0")],
  [72, temp("Connection to mail server timed out", "4.4.1")],
  [73, temp("Connection to mail server rejected", "4.4.1")],
  [74, temp("Communication with mail server failed", "4.4.2")],
  [81, temp("Internal bug in the queue program", "4.3.0")],
  [91, temp("Envelope format error in the queue program", "4.3.0")],
  [120, temp("Unable to run the queue program", "4.3.0")],
]);

/** The Fail a queue program's non-zero exit code stands for. `custom` is the fd-6 text of code 82. */
export function qqFail(code: number, custom = ""): Fail {
  if (code === QQ.customText && custom.length > 2) {
    const text = custom.slice(1).replace(/[\r\n].*$/s, "").replace(/\.$/, "");
    return custom[0] === "D" ? perm(text, "5.3.0") : temp(text, "4.3.0");
  }
  const known = TEXT.get(code);
  if (known) return known;
  return code >= 11 && code <= 40 ? perm("Queue program permanent problem", "5.3.0") : temp("Queue program temporary problem", "4.3.0");
}

/** A failure to queue: the class and status of qmail-queue's `code`, and what went wrong for the log. */
export type QueueFail = Fail & { readonly code: number };
/** A Result whose failure carries qmail-queue's exit code. */
export type QueueResult<T> = { readonly kind: "ok"; readonly value: T } | QueueFail;

/** The QueueFail of exit code `code`; `detail` (no paths: it may reach an SMTP client) follows the table's text. */
export function queueFail(code: number, detail = ""): QueueFail {
  const f = qqFail(code);
  const reason = detail ? `${f.reason}: ${detail}` : f.reason;
  return f.kind === "perm" ? { kind: "perm", reason, status: f.status, code } : { kind: "temp", reason, status: f.status, code };
}
