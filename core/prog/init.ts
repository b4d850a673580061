import { chmod, chown, mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { meWarning } from "../lib/base/me.ts";
import { ok, perm, type Result } from "../lib/base/result.ts";
import { fromErrno } from "../io/base/errno.ts";
import { passwdPath, readPasswd } from "../io/base/passwd.ts";
import { createQueue } from "../io/queue/create.ts";
import { lockFile } from "../lib/queue/layout.ts";

export interface InitOptions {
  readonly me?: string;
  /** an existing home changes its name: me, and locals, rcpthosts, defaulthost, defaultdomain where they hold the old one */
  readonly rename?: boolean;
  readonly out?: (line: string) => void;
}

/** The control files that name this host, and which of their lines --rename rewrites. */
const NAMED = ["me", "locals", "rcpthosts", "defaulthost", "defaultdomain"] as const;

/** The system users a root install runs its parts as (install.sh makes them); absent ones fall back. */
// `qm send` is the queue user (docs/architecture.md §2): it owns every queue directory, as qmail-queue and qmail-clean do together.
export const SYSTEM_USERS = { queue: "qmailq", send: "qmailq", smtpd: "qmaild", remote: "qmailr", alias: "alias" } as const;
const NOBODY = { uid: 65534, gid: 65534 };
/** control/databytes as qm init writes it: 35 MiB (Postfix ships 10 240 000; today's attachments are bigger). */
export const DEFAULT_DATABYTES = 36_700_160;

async function getpwnam(name: string): Promise<{ uid: number; gid: number } | null> {
  const table = await readPasswd(passwdPath());
  return table.kind === "ok" ? (table.value.get(name) ?? null) : null;
}

/**
 * `qm init`: creates a home with qmail's defaults (docs/architecture.md §6). Idempotent:
 * a control file or alias file that exists is never overwritten.
 */
export async function init(home: string, opts: InitOptions = {}): Promise<Result<string>> {
  const me = opts.me ?? hostname();
  if (!/^[A-Za-z0-9.-]+$/.test(me) || me.length > 255) return perm(`Invalid host name for control/me: ${JSON.stringify(me)}`, "5.3.5");
  if (opts.rename && opts.me === undefined) return perm("--rename needs --me NAME", "5.3.5");
  try {
    const old = (await readFile(join(home, "control", "me"), "latin1").catch(() => "")).trim();
    if (old !== "" && old.toLowerCase() !== me.toLowerCase()) {
      if (opts.rename) await renameHost(join(home, "control"), old, me, opts.out);
      else if (opts.me !== undefined) opts.out?.(`warning: control/me stays "${old}"; to change this host's name to ${me}, run qm init --me ${me} --rename`);
    }
    await mkdir(home, { recursive: true, mode: 0o755 });
    for (const d of ["control", "users", "alias"]) await mkdir(join(home, d), { recursive: true, mode: 0o755 });
    const controls: [string, string][] = [
      ["me", me],
      ["locals", `${me}\nlocalhost`],
      ["rcpthosts", `${me}\nlocalhost`],
      ["defaultdelivery", "./Maildir/"],
      // a limit by default (qmail had none: one client could queue 1 GB): a 25 MB attachment, base64-encoded, fits
      ["databytes", String(DEFAULT_DATABYTES)],
    ];
    for (const [name, value] of controls) await writeNew(join(home, "control", name), `${value}\n`, 0o644);
    const root = (process.getuid?.() ?? -1) === 0;
    await createQueue(home, root ? await getpwnam(SYSTEM_USERS.queue) : null);
    // MTA-STS policies cached, and TLS-RPT records written, by qm remote and qm rspawn, which run as the remote user
    const remote = root ? await getpwnam(SYSTEM_USERS.remote) : null;
    for (const dir of [lockFile(home, "sts"), lockFile(home, "tlsrpt")]) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      if (remote) await chown(dir, remote.uid, remote.gid);
    }
    // qm rspawn's memory of hosts that timed out: the file is the remote user's, as in qmail (the directory is not)
    await writeFile(lockFile(home, "tcpto"), new Uint8Array(0), { flag: "a", mode: 0o644 });
    if (remote) await chown(lockFile(home, "tcpto"), remote.uid, remote.gid);
    await makeAlias(join(home, "alias"));
  } catch (err) {
    return fromErrno(err, `Unable to create ${home}`);
  }
  const now = (await readFile(join(home, "control", "me"), "latin1").catch(() => me)).trim();
  opts.out?.(`qm home ready: ${home} (me = ${now})`);
  const warn = meWarning(now);
  if (warn) opts.out?.(warn);
  return ok(home);
}

/** Rewrites every line that is exactly `old` (any case) in the files that name the host; each file replaced whole (rename). */
async function renameHost(control: string, old: string, me: string, out?: (line: string) => void): Promise<void> {
  for (const name of NAMED) {
    const path = join(control, name);
    const text = await readFile(path, "latin1").catch(() => null);
    if (text === null) continue;
    let changed = 0;
    const lines = text.split("\n").map((l) => {
      if (l.trim().toLowerCase() !== old.toLowerCase()) return l;
      changed++;
      return me;
    });
    if (changed === 0) continue;
    const st = await stat(path);
    const tmp = `${path}.rename${process.pid}`;
    await writeFile(tmp, lines.join("\n"), { mode: st.mode & 0o7777 });
    if ((process.getuid?.() ?? -1) === 0) await chown(tmp, st.uid, st.gid);
    await rename(tmp, path);
    out?.(`control/${name}: ${old} -> ${me}`);
  }
}

async function writeNew(path: string, text: string, mode: number): Promise<void> {
  try {
    await writeFile(path, text, { flag: "wx", mode });
  } catch (err) {
    if ((err as { code?: string }).code !== "EEXIST") throw err;
  }
}

/** The alias user's home: postmaster, mailer-daemon and root land in its Maildir until the admin points them elsewhere. */
async function makeAlias(alias: string): Promise<void> {
  for (const d of ["Maildir", "Maildir/tmp", "Maildir/new", "Maildir/cur"]) await mkdir(join(alias, d), { recursive: true, mode: 0o700 });
  for (const name of [".qmail-postmaster", ".qmail-mailer-daemon", ".qmail-root"]) await writeNew(join(alias, name), "./Maildir/\n", 0o644);
  if ((process.getuid?.() ?? -1) !== 0) return;
  // Nothing is delivered as root: as root, alias/ belongs to the alias user, or to nobody.
  const owner = (await getpwnam(SYSTEM_USERS.alias)) ?? NOBODY;
  for (const p of ["", "Maildir", "Maildir/tmp", "Maildir/new", "Maildir/cur", ".qmail-postmaster", ".qmail-mailer-daemon", ".qmail-root"]) {
    await chown(join(alias, p), owner.uid, owner.gid);
  }
  await chmod(alias, 0o2755);
}
