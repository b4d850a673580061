import { readFileSync, statSync } from "node:fs";
import { toBytes, fromBytes } from "../../lib/base/bytes.ts";
import { cdbFind } from "../../lib/base/cdb.ts";
import { lookupKeys } from "../../lib/local/aliases.ts";
import { fastforwardCall } from "../../lib/smtpd/catch-all.ts";
import { aliasesPath } from "../local/aliases-file.ts";

/**
 * No backscatter through the fastforward catch-all (qm-smtpd(8), "The
 * recipient check"; qm-newaliases(8)): when the .qmail file that would take
 * a recipient is a plain `| qm fastforward` call, the recipient exists only
 * if the aliases cdb has it (the keys fastforward tries: the address,
 * `@domain`, `local@`). Anything this process cannot read or judge is
 * "ok": delivery decides, as before.
 */
const MAX_DOT_QMAIL = 64 * 1024;
const MAX_CDB = 64 * 1024 * 1024;

/** `ext`: the extension the local part left; `defaultTail`: DEFAULT when the file is a -default one. */
export async function catchAllVerdict(home: string, file: string, recipient: string, ext: string, defaultTail: string | null): Promise<"ok" | "unknown"> {
  const text = readSmall(file, MAX_DOT_QMAIL);
  const call = text === null ? null : fastforwardCall(fromBytes(text));
  if (call === null || call.pass) return "ok";
  const at = recipient.lastIndexOf("@");
  const addr = call.useDefault ? `${defaultTail ?? ext}@${recipient.slice(at + 1)}` : recipient;
  let cdbPath = call.cdb;
  if (cdbPath === null) {
    const p = await aliasesPath(home, undefined);
    if (p.kind !== "ok") return "ok";
    cdbPath = `${p.value}.cdb`;
  }
  const db = cachedCdb(cdbPath);
  if (db === null) return "ok";
  return lookupKeys(":", addr).some((k) => cdbFind(db, toBytes(k)) !== null) ? "ok" : "unknown";
}

function readSmall(path: string, max: number): Uint8Array | null {
  try {
    const st = statSync(path);
    return st.isFile() && st.size <= max ? new Uint8Array(readFileSync(path)) : null;
  } catch {
    return null;
  }
}

// the aliases cdb, read again only when a stat shows it changed (qm newaliases renames a new one in)
let held: { path: string; stamp: string; db: Uint8Array } | null = null;

function cachedCdb(path: string): Uint8Array | null {
  try {
    const st = statSync(path);
    const stamp = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
    if (held?.path === path && held.stamp === stamp) return held.db;
    if (!st.isFile() || st.size > MAX_CDB) return null;
    held = { path, stamp, db: new Uint8Array(readFileSync(path)) };
    return held.db;
  } catch {
    return null;
  }
}
