import { open, rename, unlink, writeFile } from "node:fs/promises";
import { buildCdb, type CdbRecord } from "../../lib/base/cdb.ts";
import { ok, type Result } from "../../lib/base/result.ts";
import { fromErrno } from "./errno.ts";

/** Writes `path`.tmp (mode 0644), fsyncs it, renames it over `path`: readers see the old or the new cdb. */
export async function writeCdbAtomically(path: string, records: Iterable<CdbRecord>): Promise<Result<void>> {
  const tmp = `${path}.tmp`;
  try {
    await writeFile(tmp, buildCdb(records), { mode: 0o644 });
    const fh = await open(tmp, "r+");
    try { await fh.sync(); } finally { await fh.close(); }
    await rename(tmp, path);
    return ok(undefined);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    return fromErrno(err, `Unable to write ${path}`);
  }
}
