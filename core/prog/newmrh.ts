import { constants } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { buildCdb } from "../lib/base/cdb.ts";
import { ok, perm, type Result } from "../lib/base/result.ts";
import { mrhRecords } from "../lib/smtpd/policy.ts";
import { readControlList } from "../io/base/control.ts";
import { fromErrno } from "../io/base/errno.ts";

/**
 * qm newmrh (qmail-newmrh, docs/qmail.md §10.3): control/morercpthosts, one domain
 * a line, becomes control/morercpthosts.cdb (keys lowercased, data empty),
 * written as morercpthosts.tmp, fsynced, renamed into place.
 */
export async function newmrh(home: string): Promise<Result<{ domains: number }>> {
  const list = await readControlList(home, "morercpthosts");
  if (list.kind !== "ok") return list;
  if (list.value === null) return perm("control/morercpthosts does not exist", "5.3.5");
  const db = buildCdb(mrhRecords(list.value));
  const tmp = join(home, "control", "morercpthosts.tmp");
  try {
    const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o644);
    try {
      await fh.write(db);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(home, "control", "morercpthosts.cdb"));
  } catch (err) {
    await unlink(tmp).catch(() => {});
    return fromErrno(err, "Unable to write control/morercpthosts.cdb");
  }
  return ok({ domains: list.value.length });
}
