/**
 * One long-lived spawner child of `qm send` (`qm lspawn` or `qm rspawn`,
 * docs/architecture.md §4): commands on its stdin, reports on its stdout.
 */
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { fromBytes, toBytes } from "../../lib/base/bytes.ts";
import { encodeCommand, encodeReload, reportReader, type Report } from "../../lib/send/spawn-wire.ts";
import { spawnSelf } from "../base/self.ts";
import { passwdPath, readPasswd } from "../base/passwd.ts";

const REMOTE_USER = "qmailr";

/** As root: the uid/gid rspawn runs as (the remote user), when that user exists. */
export async function remoteUser(env: NodeJS.ProcessEnv): Promise<{ uid?: number; gid?: number }> {
  if ((process.getuid?.() ?? -1) !== 0) return {};
  const pw = await readPasswd(passwdPath(env));
  const acct = pw.kind === "ok" ? pw.value.get(REMOTE_USER) : undefined;
  return acct ? { uid: acct.uid, gid: acct.gid } : {};
}

export interface SpawnerOptions {
  /** A replacement command line (test hook: $QM_LSPAWN / $QM_RSPAWN), split at spaces. */
  readonly command?: string;
  readonly uid?: number;
  readonly gid?: number;
  readonly env?: NodeJS.ProcessEnv;
  /** queue/lock/fence, open for writing: the spawner holds it as its descriptor 3 until it exits (io/queue/fence.ts). */
  readonly fence?: number;
}

export class Spawner {
  #child: ChildProcess;
  #exited: Promise<number | null>;
  #closing = false;

  constructor(sub: "lspawn" | "rspawn", onReport: (r: Report) => void, onLost: (why: string) => void, opts: SpawnerOptions = {}) {
    const so: SpawnOptions = { stdio: opts.fence === undefined ? ["pipe", "pipe", "inherit"] : ["pipe", "pipe", "inherit", opts.fence], env: { ...(opts.env ?? process.env), QM_SEND_PID: String(process.pid) } };
    if (opts.uid !== undefined) Object.assign(so, { uid: opts.uid, gid: opts.gid });
    const words = opts.command?.trim().split(/\s+/) ?? [];
    this.#child = words.length > 0 ? spawn(words[0]!, words.slice(1), so) : spawnSelf(sub, [], so);
    const read = reportReader();
    this.#child.stdout!.on("data", (b: Buffer) => {
      for (const r of read(fromBytes(b))) onReport(r);
    });
    this.#child.stdin!.on("error", () => {});
    this.#exited = new Promise((resolve) => {
      this.#child.on("error", (err) => {
        if (!this.#closing) onLost(`${sub}: ${err.message}`);
        resolve(null);
      });
      this.#child.on("close", (code, signal) => {
        if (!this.#closing) onLost(`${sub} exited (${signal ?? code})`);
        resolve(code);
      });
    });
  }

  send(slot: number, path: string, sender: string, recipient: string): void {
    this.#child.stdin!.write(toBytes(encodeCommand(slot, path, sender, recipient)));
  }

  /** SIGHUP passed on: the spawner reads its control files again before the commands after this one. */
  reload(): void {
    if (!this.#closing) this.#child.stdin!.write(toBytes(encodeReload()));
  }

  /** EOF on its stdin: it finishes what is in flight and exits. Killed after `graceMs`. */
  async close(graceMs: number): Promise<void> {
    this.#closing = true;
    this.#child.stdin!.end();
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }
}
