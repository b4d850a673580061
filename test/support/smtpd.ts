// Helpers for the smtpd end-to-end tests: a home the smtpd user (nobody) can use, a listener, a raw client.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { dirname, join } from "node:path";
import { makeHome, qmCommand, ROOT } from "./qm.ts";

export const NOBODY = 65534;
export const isRoot = process.getuid?.() === 0;

/** A fresh home whose queue belongs to nobody, so `--user nobody` queues in-process. */
export async function smtpdHome(): Promise<string> {
  const home = await makeHome("example.test");
  chmodSync(dirname(home), 0o755);
  if (isRoot) spawnSync("chown", ["-R", `${NOBODY}:${NOBODY}`, join(home, "queue")], { timeout: 60_000 });
  return home;
}

export function control(home: string, name: string, text: string): void {
  writeFileSync(join(home, "control", name), text);
  if (isRoot) chownSync(join(home, "control", name), 0, 0);
}

/** Message files now in the queue (mess/), as text. */
export function queued(home: string): string[] {
  const out: string[] = [];
  for (const d of readdirSync(join(home, "queue", "mess"))) for (const f of readdirSync(join(home, "queue", "mess", d))) out.push(readFileSync(join(home, "queue", "mess", d, f), "latin1"));
  return out;
}
export function todoCount(home: string): number {
  return readdirSync(join(home, "queue", "todo")).length;
}

export interface Running {
  readonly child: ChildProcess;
  readonly ports: number[];
  /** Everything the listener has logged (standard error) so far. */
  log(): string;
  stop(): Promise<void>;
}

/** Starts `qm smtpd --listen ...` and waits for its "listening on" line. */
export function startListener(home: string, args: readonly string[]): Promise<Running> {
  const { cmd, args: pre } = qmCommand();
  const child = spawn(cmd, [...pre, "smtpd", ...args, ...(isRoot ? ["--user", "nobody"] : [])], { cwd: ROOT, env: { ...process.env, QMHOME: home }, stdio: ["ignore", "ignore", "pipe"] });
  return new Promise((resolve, reject) => {
    let err = "";
    const timer = setTimeout(() => reject(new Error(`listener did not start: ${err}`)), 20_000);
    child.stderr!.on("data", (b: Buffer) => {
      err += b.toString();
      const m = /listening on (.*)/.exec(err);
      if (!m) return;
      clearTimeout(timer);
      const ports = [...(m[1] ?? "").matchAll(/:(\d+)(?:\s|$)/g)].map((x) => Number(x[1]));
      resolve({ child, ports, log: () => err, stop: () => new Promise((r) => { child.once("exit", () => r()); child.kill("SIGTERM"); }) });
    });
    child.once("exit", (code) => reject(new Error(`listener exited ${code}: ${err}`)));
  });
}

/** A raw client: send bytes, wait for replies by count. */
export class Client {
  readonly sock: Socket;
  #buf = "";
  #waiters: (() => void)[] = [];
  closed = false;
  constructor(sock: Socket) {
    this.sock = sock;
    sock.setEncoding("latin1");
    sock.on("data", (s: string) => { this.#buf += s; this.#notify(); });
    sock.on("close", () => { this.closed = true; this.#notify(); });
    sock.on("error", () => {});
  }
  static open(port: number, host = "127.0.0.1"): Promise<Client> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host }, () => resolve(new Client(s)));
      s.once("error", reject);
    });
  }
  #notify(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
  send(text: string): void {
    this.sock.write(text, "latin1");
  }
  /** Waits until `n` final reply lines ("ddd ") have arrived (or the socket closed); returns their codes. */
  async replies(n: number, timeoutMs = 15_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const finals = this.#buf.split("\r\n").filter((l) => /^\d{3} /.test(l));
      if (finals.length >= n || this.closed || Date.now() > deadline) {
        const lines = this.#buf.split("\r\n");
        let used = 0;
        let count = 0;
        for (const l of lines) { used += l.length + 2; if (/^\d{3} /.test(l) && ++count === n) break; }
        const take = this.#buf.slice(0, Math.min(used, this.#buf.length));
        this.#buf = this.#buf.slice(take.length);
        return take.split("\r\n").filter((l) => /^\d{3} /.test(l));
      }
      await new Promise<void>((r) => { this.#waiters.push(r); setTimeout(r, 200); });
    }
  }
}

export function have(tool: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${tool}`], { timeout: 60_000 }).status === 0;
}
