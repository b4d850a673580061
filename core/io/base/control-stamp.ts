import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { errText, isMissing } from "./errno.ts";

/**
 * What a part's control files hold, as a fingerprint per file, so that a
 * reload (SIGHUP) can say which of them changed (qm-log(5)). A file's
 * fingerprint is a digest of its bytes, "missing", or the read error with
 * the file's inode, size and mtime (a file the part may not read is still
 * seen to change); so an edit that keeps the size and the second of the
 * mtime is still seen. Kept
 * out of control.ts: the one-message programs that read controls do not load
 * node:crypto.
 */
export type ControlStamps = ReadonlyMap<string, string>;

export function stampControls(home: string, names: readonly string[]): ControlStamps {
  const out = new Map<string, string>();
  for (const name of names) {
    let v: string;
    try {
      v = createHash("sha256").update(readFileSync(join(home, "control", name))).digest("base64");
    } catch (err) {
      v = isMissing(err) ? "missing" : `error ${errText(err)} ${statStamp(join(home, "control", name))}`;
    }
    out.set(name, v);
  }
  return out;
}

/** The names whose fingerprint differs, in `after`'s order. */
export function changedControls(before: ControlStamps, after: ControlStamps): string[] {
  return [...after].filter(([name, v]) => before.get(name) !== v).map(([name]) => name);
}

function statStamp(path: string): string {
  try {
    const st = statSync(path);
    return `${st.ino}/${st.size}/${st.mtimeMs}`;
  } catch {
    return "";
  }
}
