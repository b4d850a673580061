/**
 * Housekeeping of the queue manager (docs/qmail.md §2.8, qmail-clean): leftovers
 * of crashed injectors in pid/, mess files nobody owns any more, and the
 * maildrop/ files of local users, taken into the queue (intake.ts).
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { unlinkQuiet } from "./intake.ts";
import { flatPath, parseId, splitPath, SPLIT } from "../../lib/queue/layout.ts";

/** qmail's OSSIFIED: a file untouched this long belongs to nobody (36 h). */
export const OSSIFIED = 129600;


function alive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === "EPERM";
  }
}

/** pid/<pid>.<time>.<seq> of an injector that died (or older than 36 h): removed. */
export function cleanPid(queue: string, nowSec: number): number {
  let n = 0;
  let names: string[];
  try {
    names = readdirSync(join(queue, "pid"));
  } catch {
    return 0;
  }
  for (const name of names) {
    const path = join(queue, "pid", name);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) continue;
    const old = nowSec - st.mtimeMs / 1000 > OSSIFIED;
    if ((old || !alive(Number(name.split(".")[0]))) && unlinkQuiet(path)) n++;
  }
  return n;
}

/**
 * mess/ files with neither info/ nor todo/ whose last change is older than
 * 36 h: an injector died between mess/ and todo/. Removed with their intd/.
 */
export function cleanOrphans(queue: string, nowSec: number, known: (id: number) => boolean): number {
  let n = 0;
  for (let i = 0; i < SPLIT; i++) {
    let names: string[];
    try {
      names = readdirSync(join(queue, "mess", String(i)));
    } catch {
      continue;
    }
    for (const name of names) {
      const id = parseId(name);
      if (id === null || known(id)) continue;
      const st = statSync(join(queue, splitPath("mess", id)), { throwIfNoEntry: false });
      if (!st || nowSec - Math.max(st.mtimeMs, st.ctimeMs) / 1000 <= OSSIFIED) continue;
      if (statSync(join(queue, flatPath("todo", id)), { throwIfNoEntry: false })) continue;
      unlinkQuiet(join(queue, flatPath("intd", id)));
      if (unlinkQuiet(join(queue, splitPath("mess", id)))) n++;
    }
  }
  return n;
}

export { takeMaildrop, type IntakeEvent } from "./intake.ts";
