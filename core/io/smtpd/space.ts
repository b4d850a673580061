// control/queuefree: smtpd refuses MAIL with 452 while the queue's file system
// has less room than that, so a client on a full disk is told before it sends
// its message, not after (qm-smtpd(8)).
import { statfsSync } from "node:fs";
import { queueDir } from "../../lib/queue/layout.ts";

/** A check of the queue's free space against `need` bytes, asking the kernel at most once in `ttlMs`. */
export function queueSpace(home: string, ttlMs = 2000, now: () => number = Date.now): (need: number) => boolean {
  const dir = queueDir(home);
  let at = -Infinity;
  let free = Infinity;
  return (need) => {
    if (need <= 0) return true;
    if (now() - at >= ttlMs) {
      at = now();
      try {
        const st = statfsSync(dir);
        free = Number(st.bavail) * Number(st.bsize); // what an unprivileged writer may use
      } catch {
        free = Infinity; // unknown: the queue itself reports a full disk at DATA (451)
      }
    }
    return free >= need;
  };
}
