import { closeSync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { ok, temp, type Result } from "../../lib/base/result.ts";
import { errText } from "./errno.ts";

/**
 * One running instance per file: `path` holds the pid of the process that
 * claimed it. A claim is a link() of a fresh file to `path`, so two claims at
 * once cannot both win; a file left by a process that is gone (or is no
 * longer `word`, on a reused pid) is taken over.
 */
export function claimPidFile(path: string, word: string, pid = process.pid): Result<{ release(): void }> {
  const tmp = `${path}.${pid}`;
  try {
    const fd = openSync(tmp, "w", 0o644);
    writeSync(fd, `${pid}\n`);
    closeSync(fd);
  } catch (err) {
    return temp(`Unable to write ${tmp}: ${errText(err)}`, "4.3.0");
  }
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(tmp, path);
        return ok({ release: () => releaseIfMine(path, pid) });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") return temp(`Unable to create ${path}: ${errText(err)}`, "4.3.0");
      }
      const other = holder(path);
      if (other !== null && other !== pid && running(other, word)) return temp(`already running (pid ${other})`, "4.3.0");
      try {
        unlinkSync(path); // stale: its process is gone
      } catch {
        // another claim removed it first; try again
      }
    }
    return temp(`Unable to claim ${path}: it keeps coming back`, "4.3.0");
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // gone already
    }
  }
}

function holder(path: string): number | null {
  try {
    const n = Number(readFileSync(path, "latin1").trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** Alive, and (where /proc tells) still a process whose command line has `word`. */
function running(pid: number, word: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    if (/^\d+ \(.*\) Z/.test(stat)) return false; // a zombie waiting to be reaped
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0").includes(word);
  } catch {
    return true; // no /proc: trust kill()
  }
}

function releaseIfMine(path: string, pid: number): void {
  if (holder(path) !== pid) return;
  try {
    unlinkSync(path);
  } catch {
    // gone already
  }
}
