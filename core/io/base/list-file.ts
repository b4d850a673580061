import { readFileSync } from "node:fs";
import { fromBytes } from "../../lib/base/bytes.ts";
import { ok, type Result } from "../../lib/base/result.ts";
import { parseList } from "./control.ts";
import { fromErrno, isMissing } from "./errno.ts";

/**
 * A list file named by path (QMAILMFTFILE), read with control-file rules
 * (docs/qmail.md §10.2): null when missing, any other open error temporary.
 */
export async function readListFile(path: string): Promise<Result<string[] | null>> {
  try {
    return ok(parseList(fromBytes(readFileSync(path))));
  } catch (err) {
    if (isMissing(err)) return ok(null);
    return fromErrno(err, `Unable to read ${path}`);
  }
}
