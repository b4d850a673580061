// Commands without citty at start-up. citty's parser loads node:util, which
// costs a short-lived program such as qm inject (one process per message)
// about 4 ms on Bun; so defineCommand is the identity here, and a command
// marked `raw` (it reads its argv itself) runs without citty. citty is loaded
// for the commands that declare args, and for usage and help.
import type { ArgsDef, CommandContext, CommandDef } from "citty";

/** A command; `raw: true` when run() reads only rawArgs. */
export type Command<T extends ArgsDef = ArgsDef> = CommandDef<T> & { readonly raw?: true };

export function defineCommand<const T extends ArgsDef = ArgsDef>(def: Command<T>): Command<T> {
  return def;
}

/** Runs one subcommand with its own argv (the words after its name). */
export async function runSub(def: Command, rawArgs: string[]): Promise<void> {
  if (def.raw && typeof def.run === "function") {
    await def.run({ rawArgs, args: { _: [...rawArgs] }, cmd: def } as CommandContext);
    return;
  }
  const args = typeof def.args === "function" ? await def.args() : await def.args;
  const unknown = args && Object.keys(args).length > 0 ? unknownOption(args, rawArgs) : null; // no args: a protocol argv (qm remote, qm local)
  if (unknown !== null) throw Object.assign(new Error(`Unknown option ${unknown}`), { name: "CLIError" }); // citty would ignore it
  const { runCommand } = await import("citty");
  await runCommand(def, { rawArgs });
}

/** The first word before "--" that looks like an option and names none of `args` (citty ignores such words). */
export function unknownOption(args: ArgsDef, rawArgs: readonly string[]): string | null {
  const flat = (name: string) => name.replace(/[-_]/g, "").toLowerCase();
  const known = new Map<string, string>(); // flattened name or alias -> type
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    const aliases = "alias" in def && def.alias !== undefined ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : [];
    for (const n of [name, ...aliases]) known.set(flat(n), def.type ?? "boolean");
  }
  for (let i = 0; i < rawArgs.length; i++) {
    const word = rawArgs[i]!;
    if (word === "--") break;
    if (!word.startsWith("-") || word === "-") continue;
    const name = flat(word.replace(/^-{1,2}/, "").split("=")[0]!);
    const type = known.get(name) ?? (name.startsWith("no") ? (known.get(name.slice(2)) === "boolean" ? "boolean" : undefined) : undefined);
    if (type === undefined) return word.split("=")[0]!;
    const next = rawArgs[i + 1];
    if (type !== "boolean" && !word.includes("=") && next !== undefined && !next.startsWith("-")) i++; // its value
  }
  return null;
}
