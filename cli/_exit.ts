import { writeSync } from "node:fs";
import { describe, exitCode, type Result } from "../core/lib/base/result.ts";

/** The one place besides cli/qm.ts that ends the process: a failure prints one line on stderr. */
export function exitWith(r: Result<unknown>, prefix = "qm"): never {
  if (r.kind !== "ok") say(`${prefix}: ${r.kind === "perm" ? "fatal" : "temporary"}: ${describe(r)}`);
  process.exit(exitCode(r));
}

/** Exit with a raw code (protocol programs with their own code tables, e.g. qm queue). */
export function exitRaw(code: number, message?: string): never {
  if (message) say(message);
  process.exit(code);
}

/** One line on stderr, written at once: process.stderr would cost a short-lived program's start-up ~8 ms on Bun. */
export function say(line: string): void {
  try {
    writeSync(2, `${line}\n`);
  } catch {
    // stderr closed: the exit code still tells
  }
}
