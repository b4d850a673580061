import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { compileAssign } from "../lib/local/assign.ts";
import { fromBytes } from "../lib/base/bytes.ts";
import { ok, type Result } from "../lib/base/result.ts";
import { fromErrno } from "../io/base/errno.ts";
import { writeCdbAtomically } from "../io/base/cdb-file.ts";

/** qm newu (qmail-newu): users/assign → users/cdb via users/cdb.tmp, fsync, rename. Errors leave users/cdb alone. */
export async function newu(qmhome: string): Promise<Result<number>> {
  const dir = join(qmhome, "users");
  let text: string;
  try {
    text = fromBytes(await readFile(join(dir, "assign")));
  } catch (err) {
    return fromErrno(err, "Unable to read users/assign");
  }
  const records = compileAssign(text);
  if (records.kind !== "ok") return records;
  const w = await writeCdbAtomically(join(dir, "cdb"), records.value);
  return w.kind === "ok" ? ok(records.value.length - 1) : w;
}
