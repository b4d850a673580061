import { perm, type Result } from "../lib/base/result.ts";
import { makeMaildir } from "../io/local/maildir.ts";

/** qm maildirmake DIR: the directory and tmp/ new/ cur/, mode 0700. */
export function maildirmake(dir: string | undefined): Result<void> {
  if (!dir) return perm("Usage: qm maildirmake dir", "5.3.5");
  return makeMaildir(dir);
}
