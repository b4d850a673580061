/**
 * qm qread (qmail-qread, docs/qmail.md §9): one paragraph per queued message,
 * preprocessed ones first, then those still in todo/. Trouble with one
 * message is a warning line in the listing; an unreadable queue is temporary.
 */
import { scanQueue } from "../io/queue/read.ts";
import { formatMessage, formatTrouble } from "../lib/queue/qread.ts";
import { ok, type Result } from "../lib/base/result.ts";

/** `out` answers false when the listing can no longer be written (the reader went away, as `mailq | head` does): qread stops there, quietly. */
export async function qread(home: string, out: (text: string) => Promise<boolean> | boolean): Promise<Result<{ messages: number }>> {
  let messages = 0;
  for await (const e of scanQueue(home)) {
    if (e.kind === "fatal") return e.fail;
    const text = e.kind === "trouble" ? formatTrouble(e.id, e.reason) : formatMessage(e.message);
    if (e.kind === "message") messages++;
    if (!(await out(text))) return ok({ messages }); // the reader has what it wanted
  }
  return ok({ messages });
}
