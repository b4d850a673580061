import { readFileSync, statSync } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { getpwCandidates, lookupAssign, parseDelimiters, type Assignment } from "../../lib/local/assign.ts";
import { ok, temp, type Result } from "../../lib/base/result.ts";
import { errText, isMissing } from "../base/errno.ts";
import { parsePasswd, passwdPath, type PasswdEntry } from "../base/passwd.ts";
import { fromBytes } from "../../lib/base/bytes.ts";
import { findVirtualUser, parseVirtualUsers, virtualHome } from "../../lib/local/virtualusers.ts";

// Who receives a local part (docs/qmail.md §3.1–3.3): users/cdb, then the password
// file (qmail-getpw's rules), then the alias user. The result is never uid 0.

export type ResolveError = "cdb" | "nfs" | "noalias" | "sys";
export type Resolved = { readonly kind: "ok"; readonly value: Assignment } | { readonly kind: "error"; readonly code: ResolveError; readonly reason: string };

export interface ResolveOptions {
  readonly passwd?: string;
  /** The recipient's domain: control/virtualusers is asked first (qm's own). */
  readonly domain?: string;
}

export async function resolveLocal(qmhome: string, local: string, opts: ResolveOptions = {}): Promise<Resolved> {
  if (opts.domain !== undefined) {
    const v = virtualUser(qmhome, local, opts.domain);
    if (v.kind !== "ok") return { kind: "error", code: "sys", reason: v.reason };
    if (v.value) return { kind: "ok", value: v.value };
  }
  const cdb = await readUsersCdb(qmhome);
  if (cdb.kind !== "ok") return { kind: "error", code: "cdb", reason: cdb.reason };
  if (cdb.value) {
    const hit = lookupAssign(cdb.value, local);
    if (hit) return { kind: "ok", value: hit };
  }
  const pw = passwdTable(opts.passwd ?? passwdPath());
  if (pw.kind !== "ok") return { kind: "error", code: "sys", reason: pw.reason };
  const delims = cached(join(qmhome, "control", "extdelimiters"), (b) => parseDelimiters(fromBytes(b).split("\n")[0]!.replace(/[ \t\r]+$/, "")));
  if (delims.kind !== "ok") return { kind: "error", code: "sys", reason: `Unable to read control/extdelimiters: ${delims.reason}` };
  for (const c of getpwCandidates(local, delims.value ?? "-")) {
    const acct = pw.value.get(c.name);
    if (!acct || acct.uid === 0) continue;
    const owned = await ownedBy(acct.home, acct.uid);
    if (owned.kind !== "ok") return { kind: "error", code: "nfs", reason: owned.reason };
    if (owned.value) return { kind: "ok", value: { user: acct.name, uid: acct.uid, gid: acct.gid, home: acct.home, dash: c.dash, ext: c.ext } };
  }
  const alias = await aliasUser(qmhome);
  if (alias.kind !== "ok") return { kind: "error", code: "noalias", reason: alias.reason };
  return { kind: "ok", value: { ...alias.value, dash: "-", ext: local } };
}

/** control/virtualusers' entry for local@domain (or P-local@domain, P a virtualdomains prefix), as an assignment. */
function virtualUser(qmhome: string, local: string, domain: string): Result<Assignment | null> {
  const users = cached(join(qmhome, "control", "virtualusers"), (b) => parseVirtualUsers(fromBytes(b)));
  if (users.kind !== "ok") return temp(`Unable to read control/virtualusers: ${users.reason}`, "4.3.0");
  if (users.value === null) return ok(null);
  if (users.value.kind !== "ok") return users.value;
  const vd = cached(join(qmhome, "control", "virtualdomains"), (b) => new Set(fromBytes(b).split("\n").map((l) => l.slice(l.indexOf(":") + 1).replace(/[ \t\r]+$/, "")).filter((v) => v !== "" && !v.startsWith("lmtp:"))));
  if (vd.kind !== "ok") return temp(`Unable to read control/virtualdomains: ${vd.reason}`, "4.3.0");
  const u = findVirtualUser(users.value.value, local, domain, vd.value ?? []);
  if (!u) return ok(null);
  return ok({ user: u.address, uid: u.uid, gid: u.gid, home: virtualHome(u), dash: "", ext: "", mailbox: u.mailbox, quota: u.quota });
}

/**
 * control/virtualusers for AUTH (qm-control(5)): "none" when the file is
 * absent or holds no password hash, else the hash of `address` (null: no
 * such user, or one without a hash). Unreadable or broken: temporary.
 */
export function virtualPassword(qmhome: string, address: string): Result<"none" | string | null> {
  const users = cached(join(qmhome, "control", "virtualusers"), (b) => parseVirtualUsers(fromBytes(b)));
  if (users.kind !== "ok") return temp(`Unable to read control/virtualusers: ${users.reason}`, "4.3.0");
  if (users.value === null) return ok("none");
  if (users.value.kind !== "ok") return users.value;
  const table = users.value.value;
  if (![...table.values()].some((u) => u.hash !== null)) return ok("none");
  return ok(table.get(address.toLowerCase())?.hash ?? null);
}

/** users/cdb bytes, null when there is none (ENOENT); other errors are temporary. */
async function readUsersCdb(qmhome: string): Promise<Result<Uint8Array | null>> {
  const r = cached(join(qmhome, "users", "cdb"), (b) => b);
  return r.kind === "ok" ? r : temp(`Unable to read users/cdb: ${r.reason}`, "4.3.0");
}

/** The password file by name (the first line for a name wins); a missing file is an empty table. */
function passwdTable(path: string): Result<ReadonlyMap<string, PasswdEntry>> {
  const r = cached(path, (b) => {
    const map = new Map<string, PasswdEntry>();
    for (const e of parsePasswd(fromBytes(b))) if (!map.has(e.name)) map.set(e.name, e);
    return map;
  });
  if (r.kind !== "ok") return temp(`Unable to read ${path}: ${r.reason}`, "4.3.0");
  return ok(r.value ?? new Map());
}

// users/cdb and the password file are read for every local delivery: each is
// kept parsed and read again only when a stat shows it changed (another inode,
// size, mtime or ctime; qm newu and vipw write a new file and rename it).
const files = new Map<string, { readonly stamp: string; readonly value: unknown }>();

function cached<T>(path: string, parse: (bytes: Uint8Array) => T): Result<T | null> {
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    if (st === undefined) {
      files.delete(path);
      return ok(null);
    }
    const stamp = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    const hit = files.get(path);
    if (hit?.stamp === stamp) return ok(hit.value as T);
    const value = parse(new Uint8Array(readFileSync(path)));
    files.set(path, { stamp, value });
    return ok(value);
  } catch (err) {
    if (isMissing(err)) return ok(null);
    return temp(errText(err), "4.3.0");
  }
}

async function ownedBy(home: string, uid: number): Promise<Result<boolean>> {
  try {
    return ok((await stat(home)).uid === uid);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ENOENT" || code === "ENOTDIR" || code === "EACCES") return ok(false);
    return temp(`Unable to stat ${home}: ${errText(err)}`, "4.3.0");
  }
}

/**
 * The alias user: the owner of $QMHOME/alias, with that directory as home
 * (qm init gives it to the system account "alias", else to nobody). Always
 * this home's directory, never the account's passwd home, so two qm homes on
 * one host never deliver into each other. Root never: a root-owned alias home
 * is "cannot find the alias user" until it is chowned.
 */
async function aliasUser(qmhome: string): Promise<Result<Omit<Assignment, "dash" | "ext">>> {
  const home = join(qmhome, "alias");
  try {
    const st = await stat(home);
    if (st.uid === 0) return temp(`${home} is owned by root: chown it to the alias user`, "4.3.0");
    return ok({ user: "alias", uid: st.uid, gid: st.gid, home });
  } catch (err) {
    return temp(`Unable to find the alias user: ${errText(err)}`, "4.3.0");
  }
}
