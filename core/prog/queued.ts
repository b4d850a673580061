import { unlinkSync } from "node:fs";
import { queueDir, queuedSocket } from "../lib/queue/layout.ts";
import { ok, temp, type Result } from "../lib/base/result.ts";
import { dropToQueueOwner } from "../io/queue/owner.ts";
import { listenQueued } from "../io/queue/queued-server.ts";
import { errText } from "../io/base/errno.ts";

/**
 * `qm queued`: the queue's owner takes messages from listeners that run as
 * another user (qm-queued(8)), so smtpd as qmaild queues through the straight
 * paper path once instead of writing maildrop/ for qm send to copy. Started by
 * `qm start` when its smtpd runs as a user that does not own the queue.
 */
export interface QueuedRun {
  readonly done: Promise<Result<void>>;
  /** SIGTERM: no new connections; the messages under way get their answers, then done. */
  term(): void;
}

export function runQueued(home: string, log: (line: string) => void): QueuedRun {
  const queue = queueDir(home);
  let stop: (() => void) | null = null;
  let early = false;
  const done = (async (): Promise<Result<void>> => {
    dropToQueueOwner(queue);
    const s = await listenQueued(home, { log });
    if (s.kind !== "ok") return s;
    log(`queued: ready on queue/lock/queued/socket as uid ${process.getuid?.() ?? "?"}`);
    await new Promise<void>((resolve) => {
      stop = resolve;
      if (early) resolve();
    });
    const waiting = s.value.busy();
    if (waiting > 0) log(`queued: stopping after ${waiting} message${waiting === 1 ? "" : "s"} under way`);
    await s.value.close();
    try {
      unlinkSync(queuedSocket(home)); // a listener that looks now writes maildrop/ instead of failing to connect
    } catch {
      // gone already, or another qm queued's: either way nobody greets on it now
    }
    log("queued: stopped");
    return ok(undefined);
  })().catch((err: unknown) => temp(`qm queued failed: ${errText(err)}`));
  return {
    done,
    term: () => (stop ? stop() : void (early = true)),
  };
}
