import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { realpathSync } from "node:fs";

// Running qm again as a child: kept apart from sys.ts so that programs that
// never start a child (inject, the sendmail path) do not load child_process.

/** The command line that runs this same qm (source on Node/Bun/Deno, or the compiled binary). */
export function selfCommand(): { cmd: string; args: string[] } {
  const override = process.env.QM_SELF;
  if (override) return { cmd: override, args: [] };
  const deno = (globalThis as { Deno?: { execPath(): string; mainModule: string } }).Deno;
  // deno compile: the binary is the whole program.
  if (deno?.mainModule.includes("/deno-compile-")) return { cmd: deno.execPath(), args: [] };
  if (deno) return { cmd: deno.execPath(), args: ["run", "-A", real(decodeURIComponent(new URL(deno.mainModule).pathname))] };
  const script = process.argv[1] ?? "";
  if (script === "" || script.startsWith("/$bunfs") || script.startsWith("B:\\~BUN") || script === process.execPath) {
    return { cmd: process.execPath, args: [] };
  }
  // The real file, not the link we were called by: a link named sendmail would run the wrapper again.
  return { cmd: process.execPath, args: [...process.execArgv, real(script)] };
}

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** spawn(qm sub -- args...): the "--" keeps a dash-leading address from becoming a flag. */
export function spawnSelf(sub: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
  const self = selfCommand();
  return spawn(self.cmd, [...self.args, sub, "--", ...args], opts);
}
