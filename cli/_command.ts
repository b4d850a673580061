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
  const { runCommand } = await import("citty");
  await runCommand(def, { rawArgs });
}
