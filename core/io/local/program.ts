import { spawn } from "node:child_process";
import type { MessageSource } from "./message-source.ts";

// A `|program` line (docs/qmail.md §4.5): /bin/sh -c <command> in the home, the
// message on stdin, its stdout and stderr passed on as delivery text.

export interface ProgramRun {
  readonly code: number | null; // null: killed by a signal, or could not start
  readonly signal: string | null;
}

export function runProgram(command: string, cwd: string, env: NodeJS.ProcessEnv, msg: MessageSource, out: (text: string) => void): Promise<ProgramRun> {
  return new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", command], { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
    let done = false;
    const finish = (r: ProgramRun): void => {
      if (!done) { done = true; resolve(r); }
    };
    child.on("error", () => finish({ code: null, signal: "spawn" }));
    child.stdout.on("data", (b: Buffer) => out(b.toString("latin1")));
    child.stderr.on("data", (b: Buffer) => out(b.toString("latin1")));
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
