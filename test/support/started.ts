// A running `qm start` for end-to-end tests: what it has printed (its own
// lines and its parts'), time stamps removed, and waits on that output.
import { spawn, type ChildProcess } from "node:child_process";
import { qmCommand, ROOT } from "./qm.ts";

/** The time stamps qm start puts on lines: --log iso, tai64n. */
const STAMP = /^(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z |@4000[0-9a-f]{20} )/gm;

export class Started {
  readonly child: ChildProcess;
  raw = "";
  text = "";
  private waiters: (() => void)[] = [];
  constructor(home: string, args: readonly string[]) {
    const { cmd, args: pre } = qmCommand();
    this.child = spawn(cmd, [...pre, "start", ...args], { cwd: ROOT, env: { ...process.env, QMHOME: home }, stdio: ["ignore", "pipe", "pipe"] });
    const add = (b: Buffer) => {
      this.raw += b.toString("latin1");
      this.text = this.raw.replace(STAMP, "");
      for (const w of this.waiters.splice(0)) w();
    };
    this.child.stdout!.on("data", add);
    this.child.stderr!.on("data", add);
  }
  /** Resolves with the first match of `re` in the output from offset `from` on. */
  async wait(re: RegExp, from = 0, ms = 30_000): Promise<RegExpExecArray> {
    const end = Date.now() + ms;
    for (;;) {
      const m = re.exec(this.text.slice(from));
      if (m) return m;
      const left = end - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${re}; output:\n${this.text.slice(from)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1000));
        this.waiters.push(() => (clearTimeout(t), resolve()));
      });
    }
  }
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve({ code: this.child.exitCode, signal: this.child.signalCode });
    return new Promise((resolve) => this.child.once("exit", (code, signal) => resolve({ code, signal })));
  }
  /** SIGTERM, and the exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const done = this.exited();
    this.child.kill("SIGTERM");
    await done;
  }
}

/** Polls `probe` every 100 ms until it gives a value (not null or undefined); throws after `ms`. */
export async function waitFor<T>(what: string | (() => string), probe: () => T | null | undefined, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (let i = 0; Date.now() < end && i < 10_000; i++) {
    const v = probe();
    if (v !== null && v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${typeof what === "string" ? what : what()}`);
}
