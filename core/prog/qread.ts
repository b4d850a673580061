/**
 * qm qread (qmail-qread, qmail.md §9): one paragraph per queued message,
 * preprocessed ones first, then those still in todo/. Trouble with one
 * message is a warning line in the listing; an unreadable queue is temporary.
 */
import { scanQueue } from "../io/queue-read.ts";
import { formatMessage, formatTrouble } from "../lib/qread.ts";
import { ok, type Result } from "../lib/result.ts";

export async function qread(home: string, out: (text: string) => Promise<void> | void): Promise<Result<{ messages: number }>> {
  let messages = 0;
  for await (const e of scanQueue(home)) {
    if (e.kind === "fatal") return e.fail;
    if (e.kind === "trouble") await out(formatTrouble(e.id, e.reason));
    else {
      messages++;
      await out(formatMessage(e.message));
    }
  }
  return ok({ messages });
}
