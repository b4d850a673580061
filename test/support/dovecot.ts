// A private Dovecot (Debian's dovecot-core, -lmtpd, -imapd) for the LMTP
// tests: its own config, base_dir, passwd-file users and mail under a
// temporary directory; LMTP and IMAP on unix sockets there (no ports), mail
// stored as the fixture's uid 65534; run in the foreground as a child and
// stopped by its PID. readImap() logs in over IMAP and fetches every message.
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { tempDir } from "./qm.ts";

export const DOVECOT = "/usr/sbin/dovecot";
export const VMAIL_UID = 65534; // nobody in test/support/passwd

export function dovecotMissing(): string | false {
  for (const f of [DOVECOT, "/usr/lib/dovecot/lmtp", "/usr/lib/dovecot/imap"]) if (!existsSync(f)) return `${f} missing (apt-get install dovecot-core dovecot-lmtpd dovecot-imapd)`;
  return (process.getuid?.() ?? -1) === 0 ? false : "needs root: dovecot stores mail as uid 65534";
}

export interface VirtualUser {
  readonly name: string; // user@domain
  readonly password?: string;
  /** Dovecot quota rule, e.g. "*:storage=1K". */
  readonly quota?: string;
}

export interface Dovecot {
  readonly dir: string;
  readonly lmtp: string; // unix socket path
  readonly imap: string; // unix socket path
  readonly child: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

export async function startDovecot(users: readonly VirtualUser[]): Promise<Dovecot> {
  const dir = tempDir("qm-dovecot-");
  chmodSync(dir, 0o755);
  for (const d of ["run", "state", "vmail"]) mkdirSync(join(dir, d));
  chownSync(join(dir, "vmail"), VMAIL_UID, VMAIL_UID);
  const lines = users.map((u) => `${u.name}:{PLAIN}${u.password ?? "secret"}:${VMAIL_UID}:${VMAIL_UID}::${join(dir, "vmail", u.name)}::${u.quota ? `userdb_quota_rule=${u.quota}` : ""}`);
  writeFileSync(join(dir, "users"), `${lines.join("\n")}\n`);
  const conf = join(dir, "dovecot.conf");
  writeFileSync(conf, [
    `base_dir = ${join(dir, "run")}`, `state_dir = ${join(dir, "state")}`, `log_path = ${join(dir, "dovecot.log")}`,
    "protocols = imap lmtp", "listen = 127.0.0.1", "ssl = no", "disable_plaintext_auth = no", "auth_mechanisms = plain",
    "default_internal_user = nobody", "default_internal_group = nogroup", "default_login_user = nobody",
    "mail_location = maildir:~/Maildir", "mail_plugins = quota", "plugin {", "  quota = maildir:User quota", "}",
    "passdb {", "  driver = passwd-file", `  args = scheme=PLAIN ${join(dir, "users")}`, "}",
    "userdb {", "  driver = passwd-file", `  args = ${join(dir, "users")}`, "}",
    "service lmtp {", `  unix_listener ${join(dir, "lmtp")} {`, "    mode = 0666", "  }", "}",
    "service imap-login {", "  inet_listener imap {", "    port = 0", "  }", `  unix_listener ${join(dir, "imap")} {`, "    mode = 0666", "  }", "}",
    "",
  ].join("\n"));
  const child = spawn(DOVECOT, ["-F", "-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr!.on("data", (b: Buffer) => { err += b.toString(); });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const log = (): string => { try { return readFileSync(join(dir, "dovecot.log"), "utf8"); } catch { return ""; } };
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  for (let i = 0; i < 100 && !(existsSync(join(dir, "lmtp")) && existsSync(join(dir, "imap"))); i++) {
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!existsSync(join(dir, "imap"))) {
    await stop();
    throw new Error(`dovecot did not start: ${err}${log()}`);
  }
  return { dir, lmtp: join(dir, "lmtp"), imap: join(dir, "imap"), child, log, stop };
}

/** Logs in as `user` over IMAP (unix socket) and returns every INBOX message's bytes (latin1), oldest first. */
export function readImap(socket: string, user: string, password = "secret"): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const s = connect({ path: socket });
    let buf = "";
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`IMAP timed out:\n${buf}`)); }, 15_000);
    s.on("error", (e) => { clearTimeout(timer); reject(e); });
    s.on("data", (b: Buffer) => {
      buf += b.toString("latin1");
      if (!/\r\nd (OK|NO|BAD)[^\r]*\r\n/.test(buf)) return;
      clearTimeout(timer);
      s.destroy();
      if (!/\r\na OK/.test(buf)) return reject(new Error(`IMAP login failed:\n${buf}`));
      resolve(literals(buf));
    });
    s.write(`a LOGIN "${user}" "${password}"\r\nb SELECT INBOX\r\nc FETCH 1:* (BODY.PEEK[])\r\nd LOGOUT\r\n`);
  });
}

function literals(text: string): string[] {
  const out: string[] = [];
  const re = /\* \d+ FETCH \(BODY\[\] \{(\d+)\}\r\n/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const n = Number(m[1]);
    out.push(text.slice(m.index + m[0].length, m.index + m[0].length + n));
    re.lastIndex = m.index + m[0].length + n;
  }
  return out;
}

/**
 * Dovecot with only its auth service, for the SASL tests (qm smtpd's
 * control/dovecotauth, Postfix's smtpd_sasl_type = dovecot): a passwd-file
 * of `passwd` lines (user:{SCHEME}password), a static userdb, and an auth
 * socket anyone may use at `dir`/`socket`. Plain-text logins are refused
 * unless `plaintext` (Dovecot's own rule; the TLS is the client's). The
 * caller waits for the socket and stops the child by its PID.
 */
export function startDovecotAuth(dir: string, o: { passwd: string; socket: string; plaintext: boolean }): ChildProcess {
  writeFileSync(join(dir, "passwd"), o.passwd);
  writeFileSync(join(dir, "dovecot.conf"), [
    `base_dir = ${dir}/dovecot-run`, `state_dir = ${dir}/dovecot-state`, `log_path = ${dir}/dovecot.log`,
    "protocols = none", "listen = 127.0.0.1", "ssl = no", `disable_plaintext_auth = ${o.plaintext ? "no" : "yes"}`,
    "auth_mechanisms = plain login", "auth_failure_delay = 0", "auth_verbose = yes",
    "passdb {", "  driver = passwd-file", `  args = ${dir}/passwd`, "}",
    "userdb {", "  driver = static", `  args = uid=${VMAIL_UID} gid=${VMAIL_UID} home=/nonexistent`, "}",
    "service auth {", `  unix_listener ${dir}/${o.socket} {`, "    mode = 0666", "  }", "}",
    "",
  ].join("\n"));
  return spawn(DOVECOT, ["-F", "-c", join(dir, "dovecot.conf")], { stdio: "ignore" });
}

/** Stops a Dovecot child by its PID and waits for it (null or already gone: nothing to do). */
export async function stopChild(child: ChildProcess | null): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await gone;
}
