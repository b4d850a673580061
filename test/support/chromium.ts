// Debian's headless chromium, driven over the DevTools protocol on a pipe
// (--remote-debugging-pipe: commands in on fd 3, answers and events out on
// fd 4, each message JSON ending in NUL). A private profile under the
// caller's directory, no sandbox (tests run as root), stopped by its PID.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import type { Readable, Writable } from "node:stream";

export const CHROMIUM = "/usr/bin/chromium";

/** Why a test that needs chromium cannot run here, or false when it can. */
export function noChromium(): string | false {
  const r = spawnSync(CHROMIUM, ["--version"], { timeout: 30_000, encoding: "utf8" });
  return r.status === 0 ? false : "chromium is not installed (Debian package chromium, scripts/apt-packages.txt)";
}

interface Message { id?: number; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: { message: string }; sessionId?: string }

export class Browser {
  readonly child: ChildProcess;
  readonly events: Message[] = [];
  private next = 1;
  private waiting = new Map<number, (m: Message) => void>();
  private listeners: ((m: Message) => void)[] = [];
  private exited: Promise<void>;

  constructor(profile: string) {
    this.child = spawn(CHROMIUM, [
      "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
      "--disable-background-networking", "--disable-sync", "--disable-component-update", "--remote-debugging-pipe",
      `--user-data-dir=${profile}`, "--window-size=1100,1800", "about:blank",
    ], { stdio: ["ignore", "ignore", "ignore", "pipe", "pipe"] });
    this.exited = new Promise((resolve) => this.child.once("exit", () => resolve()));
    let buf = "";
    (this.child.stdio[4] as Readable).on("data", (b: Buffer) => {
      buf += b.toString("utf8");
      for (let nul = buf.indexOf("\0"); nul >= 0; nul = buf.indexOf("\0")) {
        const m = JSON.parse(buf.slice(0, nul)) as Message;
        buf = buf.slice(nul + 1);
        if (m.id !== undefined) this.waiting.get(m.id)?.(m);
        else {
          this.events.push(m);
          for (const l of this.listeners) l(m);
        }
      }
    });
  }

  /** Sends one command (to a page's session when `sessionId` is given) and resolves with its result. */
  send(method: string, params: Record<string, unknown> = {}, sessionId?: string, ms = 30_000): Promise<Record<string, unknown>> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`chromium did not answer ${method}`)), ms);
      this.waiting.set(id, (m) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        if (m.error) reject(new Error(`${method}: ${m.error.message}`));
        else resolve(m.result ?? {});
      });
      (this.child.stdio[3] as Writable).write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  }

  /** Resolves with the first event named `method` (from now on). */
  event(method: string, ms = 30_000): Promise<Message> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${method} from chromium`)), ms);
      const l = (m: Message) => {
        if (m.method !== method) return;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((x) => x !== l);
        resolve(m);
      };
      this.listeners.push(l);
    });
  }

  /** Attaches to the first page; returns its session, with Page, Runtime and Log on. */
  async page(): Promise<string> {
    const { targetInfos } = (await this.send("Target.getTargets")) as { targetInfos: { targetId: string; type: string }[] };
    const target = targetInfos.find((t) => t.type === "page");
    if (!target) throw new Error("chromium has no page");
    const { sessionId } = (await this.send("Target.attachToTarget", { targetId: target.targetId, flatten: true })) as { sessionId: string };
    for (const domain of ["Page", "Runtime", "Log"]) await this.send(`${domain}.enable`, {}, sessionId);
    return sessionId;
  }

  /** Console errors, uncaught exceptions and error log entries seen so far, as text. */
  errors(): string[] {
    return this.events.flatMap((m) => {
      const p = m.params ?? {};
      if (m.method === "Runtime.exceptionThrown") return [JSON.stringify(p.exceptionDetails)];
      if (m.method === "Runtime.consoleAPICalled" && (p.type === "error" || p.type === "assert")) return [JSON.stringify(p.args)];
      if (m.method === "Log.entryAdded" && (p.entry as { level?: string } | undefined)?.level === "error") return [JSON.stringify(p.entry)];
      return [];
    });
  }

  /** Closes the browser and waits for it; kills it by PID if it does not go. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await this.send("Browser.close", {}, undefined, 5000).catch(() => {});
    const t = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    await this.exited;
    clearTimeout(t);
  }
}
