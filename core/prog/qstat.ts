/** qm qstat (qmail-qstat, docs/qmail.md §9): how many messages are in the queue, how many not yet preprocessed. */
import { countQueue } from "../io/queue/read.ts";
import { formatQstat } from "../lib/queue/qread.ts";
import { ok, type Result } from "../lib/base/result.ts";

export async function qstat(home: string, out: (text: string) => void): Promise<Result<true>> {
  const counts = await countQueue(home);
  if (counts.kind !== "ok") return counts;
  out(formatQstat(counts.value));
  return ok(true);
}
