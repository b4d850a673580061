import { spawn } from "node:child_process";
import type { MessageSource } from "./message-source.ts";

// A `|program` line (docs/qmail.md §4.5): /bin/sh -c <command> in the home, the
// message on stdin, its stdout and stderr passed on as delivery text. With a
// time limit (control/timeoutlocal, qm local) the program runs in a process
// group of its own, and the whole group is killed when the time is up: a
// hanging program (or what it started) cannot hold a delivery slot forever.

export interface ProgramRun {
  readonly code: number | null; // null: killed by a signal, timed out, or could not start
  readonly signal: string | null; // "timeout": killed at the time limit; "spawn": not started
}

/** After SIGTERM to a timed-out group, how long before SIGKILL. */
const GRACE_MS = 2000;

export function runProgram(command: string, cwd: string, env: NodeJS.ProcessEnv, msg: MessageSource, out: (text: string) => void, timeoutMs = 0): Promise<ProgramRun> {
  return new Promise((resolve) => {
    const group = timeoutMs > 0;
    const child = spawn("/bin/sh", ["-c", command], { cwd, env, stdio: ["pipe", "pipe", "pipe"], detached: group });
    let done = false;
    let timedOut = false;
    let exited: ProgramRun | null = null; // the program ended, though something it started may hold its output
    const timers: NodeJS.Timeout[] = [];
    const finish = (r: ProgramRun): void => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      resolve(timedOut ? { code: null, signal: "timeout" } : r);
    };
    const killGroup = (sig: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        // the group is gone already
      }
    };
    if (group) {
      timers.push(setTimeout(() => {
        timedOut = exited === null;
        killGroup("SIGTERM");
        timers.push(setTimeout(() => {
          killGroup("SIGKILL");
          // something that left the group may still hold stdout: stop waiting for it
          timers.push(setTimeout(() => { child.stdout.destroy(); child.stderr.destroy(); finish(exited ?? { code: null, signal: "timeout" }); }, GRACE_MS));
        }, GRACE_MS));
      }, timeoutMs));
    }
    child.on("error", () => finish({ code: null, signal: "spawn" }));
    child.stdout.on("data", (b: Buffer) => out(b.toString("latin1")));
    child.stderr.on("data", (b: Buffer) => out(b.toString("latin1")));
    child.on("exit", (code, signal) => { exited = { code, signal }; });
    child.on("close", (code, signal) => finish({ code, signal }));
    void feed(child.stdin, msg);
  });
}

async function feed(stdin: NodeJS.WritableStream & { destroyed?: boolean }, msg: MessageSource): Promise<void> {
  let closed = false;
  stdin.on("error", () => { closed = true; }); // EPIPE: the program stopped reading; its exit code decides
  stdin.on("close", () => { closed = true; });
  try {
    for await (const chunk of msg.chunks()) {
      if (closed) return;
      if (!stdin.write(chunk)) {
        await new Promise<void>((r) => {
          const go = (): void => { stdin.off("drain", go); stdin.off("close", go); r(); };
          stdin.on("drain", go);
          stdin.on("close", go);
        });
      }
    }
  } catch {
    // a read error: end the input; the program sees a short message and the delivery is judged by its exit code
  }
  if (!closed) stdin.end();
}
