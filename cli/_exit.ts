import { describe, exitCode, type Result } from "../core/lib/result.ts";

/** The one place besides cli/qm.ts that ends the process: a failure prints one line on stderr. */
export function exitWith(r: Result<unknown>, prefix = "qm"): never {
  if (r.kind !== "ok") process.stderr.write(`${prefix}: ${r.kind === "perm" ? "fatal" : "temporary"}: ${describe(r)}\n`);
  process.exit(exitCode(r));
}

/** Exit with a raw code (protocol programs with their own code tables, e.g. qm queue). */
export function exitRaw(code: number, message?: string): never {
  if (message) process.stderr.write(`${message}\n`);
  process.exit(code);
}
