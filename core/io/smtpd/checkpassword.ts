import { spawn } from "node:child_process";
import { toBytes } from "../../lib/base/bytes.ts";

/**
 * A checkpassword-compatible program (DJB's interface): "user\0password\0
 * timestamp\0" on fd 3, then it runs its arguments when the password is
 * right. Exit 0: good; 1: bad; anything else (or a crash, or no answer
 * within the time limit) is a temporary failure. The program line is split
 * on spaces; /bin/true is appended as the program to run on success.
 */
export type PasswordVerdict = "ok" | "no" | "temp";

export function checkPassword(command: string, user: string, pass: string, timeoutMs = 30_000): Promise<PasswordVerdict> {
  const [prog, ...args] = command.split(/[ \t]+/).filter((w) => w !== "");
  if (!prog) return Promise.resolve("temp");
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(prog, [...args, "/bin/true"], { stdio: ["ignore", "ignore", "ignore", "pipe"] });
    } catch {
      return resolve("temp");
    }
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", () => {
      clearTimeout(timer);
      resolve("temp");
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? "ok" : code === 1 ? "no" : "temp");
    });
    const fd3 = child.stdio[3] as NodeJS.WritableStream | null;
    fd3?.on("error", () => {});
    fd3?.end(toBytes(`${user}\0${pass}\0${Math.floor(Date.now() / 1000)}\0`));
  });
}
