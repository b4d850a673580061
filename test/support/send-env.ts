// Shared set-up for the `qm send` tests: a home, messages put in with the
// real enqueue(), the fake spawner, and a running daemon whose log lines
// can be waited for.
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { toBytes } from "../../core/lib/base/bytes.ts";
import { enqueue } from "../../core/io/queue/enqueue.ts";
import { init } from "../../core/prog/init.ts";
import { fastQm, qmCommand, ROOT, tempDir, type Run } from "./qm.ts";

export const FAKE = `${process.execPath} ${join(ROOT, "test/support/fake-spawn.mjs")}`;

export async function fakeHome(controls: Record<string, string> = {}): Promise<string> {
  const home = join(tempDir(), "qm");
  const made = await init(home, { me: "example.test" });
  if (made.kind !== "ok") throw new Error(`init failed: ${made.reason}`);
  for (const [name, value] of Object.entries(controls)) writeFileSync(join(home, "control", name), `${value}\n`);
  return home;
}

export async function put(home: string, sender: string, rcpts: string[], body = "Subject: test\n\nhello\n"): Promise<number> {
  const r = await enqueue(home, toBytes(body), { sender, recipients: rcpts });
  if (r.kind !== "ok") throw new Error(`enqueue failed: ${JSON.stringify(r)}`);
  return r.value.id;
}

export function fakeEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { QMHOME: home, QM_LSPAWN: FAKE, QM_RSPAWN: FAKE, ...extra };
}

/** `qm send --once` from the fast binary (fastQm()): these tests start it many times. */
export async function sendOnce(home: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return runBin(["send", "--once", ...args], fakeEnv(home, env));
}

/** The standalone binary when it builds, else qm from source (slower to start). */
async function qmBin(): Promise<{ cmd: string; args: string[] }> {
  try {
    return { cmd: await fastQm(), args: [] };
  } catch {
    return qmCommand();
  }
}

/** Runs the fast binary with `args`; resolves on exit (killed after 40 s). */
export async function runBin(args: string[], env: NodeJS.ProcessEnv, input = ""): Promise<Run> {
  const { cmd, args: pre } = await qmBin();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...pre, ...args], { env: { ...process.env, ...env }, cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on("data", (b: Buffer) => out.push(b));
    child.stderr!.on("data", (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill("SIGKILL"), 40_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
    });
    child.stdin!.on("error", () => {});
    child.stdin!.end(input);
  });
}

/** Every file under queue/ except lock/, as queue-relative paths. */
export function queueFiles(home: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(home, "queue", rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (!r.startsWith("lock/")) out.push(r);
    }
  };
  walk("");
  return out.sort();
}

export interface Daemon {
  readonly child: ChildProcess;
  lines(): string[];
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
}

export async function startDaemon(env: NodeJS.ProcessEnv): Promise<Daemon> {
  const { cmd, args } = await qmBin();
  const child = spawn(cmd, [...args, "send"], { env: { ...process.env, ...env }, cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  const waiters = new Set<() => void>();
  child.stdout!.on("data", (b: Buffer) => {
    text += b.toString("latin1");
    for (const w of waiters) w();
  });
  child.stderr!.on("data", (b: Buffer) => process.stderr.write(b));
  const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  const lines = () => text.split("\n").filter((l) => l !== "");
  const waitFor = (re: RegExp, timeoutMs = 15_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const hit = lines().find((l) => re.test(l));
        if (!hit) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(hit);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${re}; log:\n${text}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return { child, lines, waitFor, exited };
}

/**
 * A home for the real `qm lspawn`: users alice and bob (uid/gid 65534, homes
 * with a Maildir, owned by them) in a password file of its own ($QM_PASSWD).
 */
export async function localHome(controls: Record<string, string> = {}): Promise<{ home: string; env: NodeJS.ProcessEnv; maildir: (user: string) => string }> {
  const home = await fakeHome(controls);
  const top = join(home, "..");
  chmodSync(top, 0o755);
  const lines: string[] = [];
  for (const user of ["alice", "bob", "carol"]) {
    const dir = join(top, user);
    for (const d of ["", "/Maildir", "/Maildir/tmp", "/Maildir/new", "/Maildir/cur"]) {
      mkdirSync(dir + d, { mode: 0o700 });
      chownSync(dir + d, 65534, 65534);
    }
    chmodSync(dir, 0o755);
    lines.push(`${user}:x:65534:65534::${dir}:/bin/sh`);
  }
  writeFileSync(join(top, "passwd"), `${lines.join("\n")}\n`);
  const env = { QMHOME: home, QM_PASSWD: join(top, "passwd"), QM_RSPAWN: FAKE };
  const maildir = (user: string) => (user === "alias" ? join(home, "alias/Maildir") : join(top, user, "Maildir"));
  return { home, env, maildir };
}

/** The messages in a Maildir's new/, oldest name first. */
export function newMail(maildir: string): string[] {
  return readdirSync(join(maildir, "new"))
    .sort()
    .map((n) => readFileSync(join(maildir, "new", n), "latin1"));
}
