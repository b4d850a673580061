// Test helpers shared by the end-to-end tests: run the real `qm` as a process.
// QM_BIN picks the qm under test (e.g. dist/qm); the default is the source on Node.
import { spawn, type SpawnOptions } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ROOT = new URL("../..", import.meta.url).pathname;

/**
 * The password file every test runs with ($QM_PASSWD, inherited by every qm
 * a test starts): root and nobody, none of qm's system users. So `qm init` as
 * root keeps queue/ for root, who can reach it inside a 0700 temporary
 * directory, whatever accounts the host has (install.sh's qmailq could not).
 * A test that needs accounts of its own writes a password file of its own.
 */
export const PASSWD = join(ROOT, "test/support/passwd");
process.env.QM_PASSWD = PASSWD;

/** The command line that runs qm under test. */
export function qmCommand(): { cmd: string; args: string[] } {
  const bin = process.env.QM_BIN;
  if (bin) return { cmd: bin, args: [] };
  return { cmd: process.execPath, args: ["--import", "tsx", join(ROOT, "cli/qm.ts")] };
}

export interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
}

/** Runs `qm ...args`, feeding `input` on stdin; resolves when it exits (killed after timeoutMs). */
export function runQm(
  args: readonly string[],
  opts: { input?: string | Uint8Array; env?: NodeJS.ProcessEnv; timeoutMs?: number; spawn?: SpawnOptions } = {},
): Promise<Run> {
  const { cmd, args: pre } = qmCommand();
  return runProcess(cmd, [...pre, ...args], opts);
}

/** Runs any command the same way (a qm reached through a link, on another runtime...). */
export function runProcess(
  cmd: string,
  args: readonly string[],
  opts: { input?: string | Uint8Array; env?: NodeJS.ProcessEnv; timeoutMs?: number; spawn?: SpawnOptions } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
      cwd: ROOT,
      ...opts.spawn,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr?.on("data", (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
    });
    child.stdin?.on("error", () => {}); // the child may exit before reading everything
    child.stdin?.end(opts.input ?? "");
  });
}

/** A run's output as byte strings (one char per byte), for tests that match text. */
export function asText(r: Run): { code: number | null; stdout: string; stderr: string } {
  return { code: r.code, stdout: r.stdout.toString("latin1"), stderr: r.stderr.toString("latin1") };
}

const made: string[] = [];
/** Removes every directory tempDir() made (at exit: a test file's homes, spools and binaries go with it). */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // still in use (a mount point a test left mounted): leave it rather than fail the exit
    }
  }
}
process.on("exit", removeTempDirs);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  // the test runner stops a file that outlives --test-timeout with SIGTERM: clean up, then die of the signal
  process.once(sig, () => {
    removeTempDirs();
    process.kill(process.pid, sig);
  });
}

/** A fresh temporary directory, removed when the test file's process exits (however its tests ended). */
export function tempDir(prefix = "qm-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** A fresh $QMHOME made by `qm init --me <me>` with the fixture password file; returns its path. */
export async function makeHome(me = "example.test", env: NodeJS.ProcessEnv = {}): Promise<string> {
  const home = join(tempDir(), "qm");
  const r = await runQm(["init", "--me", me], { env: { QM_PASSWD: PASSWD, ...env, QMHOME: home } });
  if (r.code !== 0) throw new Error(`qm init failed (${r.code}): ${r.stderr.toString()}`);
  return home;
}

let built: Promise<string> | null = null;
/**
 * A fast-starting qm for tests that start hundreds of processes: $QM_BIN when
 * set, else $QM_TEST_BIN (the standalone binary scripts/test.sh builds once
 * per run and removes afterwards), else one built with bun for this test
 * process (a file run on its own) and removed when it exits.
 */
export function fastQm(): Promise<string> {
  const given = process.env.QM_BIN || process.env.QM_TEST_BIN;
  if (given) return Promise.resolve(given);
  built ??= new Promise((resolve, reject) => {
    const dir = tempDir("qm-bin-");
    chmodSync(dir, 0o755); // deliveries run the binary as other users (nobody)
    const out = join(dir, "qm");
    const child = spawn("sh", [join(ROOT, "scripts/build.sh"), out], { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
    const err: Buffer[] = [];
    child.stderr?.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`bun build failed: ${Buffer.concat(err).toString()}`))));
  });
  return built;
}

/** Runs `qm queue` (or `cmd`) with the message on fd 0 and the envelope written to its fd 1 afterwards. */
export function runQueue(message: Uint8Array | string, envelope: Uint8Array | string, env: NodeJS.ProcessEnv, cmd = qmCommand(), uid?: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd.cmd, [...cmd.args, "queue"], { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"], ...(uid === undefined ? {} : { uid, gid: uid }) });
    let stderr = "";
    child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
    child.stdin!.on("error", () => {});
    child.stdout!.on("error", () => {});
    child.stdin!.end(message, () => (child.stdout as unknown as NodeJS.WritableStream).end(envelope));
    child.on("close", (code) => resolve({ code, stderr }));
  });
}
