import { readFile, rename, unlink, writeFile, open } from "node:fs/promises";
import { join } from "node:path";
import { compileAssign } from "../lib/assign.ts";
import { fromBytes } from "../lib/bytes.ts";
import { buildCdb, type CdbRecord } from "../lib/cdb.ts";
import { ok, type Result } from "../lib/result.ts";
import { fromErrno } from "../io/errno.ts";

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

/** Writes `path`.tmp (mode 0644), fsyncs it, renames it over `path`. */
export async function writeCdbAtomically(path: string, records: Iterable<CdbRecord>): Promise<Result<void>> {
  const tmp = `${path}.tmp`;
  try {
    const bytes = buildCdb(records);
    await writeFile(tmp, bytes, { mode: 0o644 });
    const fh = await open(tmp, "r+");
    try { await fh.sync(); } finally { await fh.close(); }
    await rename(tmp, path);
    return ok(undefined);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    return fromErrno(err, `Unable to write ${path}`);
  }
}
