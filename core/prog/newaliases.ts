import { readFile } from "node:fs/promises";
import { compileAliases } from "../lib/local/aliases.ts";
import { aliasDefaults, aliasesPath } from "../io/local/aliases-file.ts";
import { fromBytes } from "../lib/base/bytes.ts";
import { ok, type Result } from "../lib/base/result.ts";
import { fromErrno } from "../io/base/errno.ts";
import { writeCdbAtomically } from "../io/base/cdb-file.ts";

/** qm newaliases [FILE]: FILE → FILE.cdb (via FILE.cdb.tmp, fsync, rename); the old cdb stays on any error. */
export async function newaliases(qmhome: string, arg?: string): Promise<Result<{ path: string; count: number }>> {
  const path = await aliasesPath(qmhome, arg);
  if (path.kind !== "ok") return path;
  const defaults = await aliasDefaults(qmhome);
  if (defaults.kind !== "ok") return defaults;
  let text: string;
  try {
    text = fromBytes(await readFile(path.value));
  } catch (err) {
    return fromErrno(err, `Unable to read ${path.value}`);
  }
  const records = compileAliases(text, defaults.value);
  if (records.kind !== "ok") return records;
  const w = await writeCdbAtomically(`${path.value}.cdb`, records.value);
  return w.kind === "ok" ? ok({ path: `${path.value}.cdb`, count: records.value.length }) : w;
}
