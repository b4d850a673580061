#!/usr/bin/env tsx
import { defineCommand, runSub } from "./_command.ts";
import { writeSync } from "node:fs";
import { invokedAs, request, showHelp, uncoloured, usageText } from "./_entry.ts";
import { say } from "./_exit.ts";
import { COMMANDS, command } from "./commands.ts";

const main = defineCommand({
  meta: { name: "qm", version: "0.1.0", description: "A mail transfer agent in the qmail tradition" },
  subCommands: Object.fromEntries(COMMANDS.map((c) => [c.name, c.load])) as never,
});

// No top-level await: the entry stays loadable as bytecode by `bun build --compile` (scripts/build.sh).
async function entry(): Promise<void> {
  // Called as sendmail, mailq or newaliases (a link to qm): sendmail's argv, not citty's.
  const as = invokedAs();
  if (as) await import("./sendmail.ts").then((m) => m.runSendmail(process.argv.slice(2), as));
  const req = request(process.argv.slice(2), new Set(COMMANDS.map((c) => c.name)));
  if (req.kind === "version") process.exit((writeSync(1, "qm 0.1.0\n"), 0));
  if (req.kind === "help") process.exit((await showHelp(main, command(req.sub ?? undefined)), 0));

  const [name, ...rest] = process.argv.slice(2);
  const sub = command(name); // a row of the table: not "constructor" and the like
  try {
    if (sub) await runSub(await sub.load(), rest);
    else if (name !== undefined && !name.startsWith("-")) throw Object.assign(new Error(`Unknown command ${name}`), { name: "CLIError" });
    else await (await import("citty")).runCommand(main, { rawArgs: process.argv.slice(2) }); // its usage errors
  } catch (err) {
    const usage = err instanceof Error && err.name === "CLIError"; // citty does not export the class
    if (usage) writeSync(2, await usageText(main, sub)); // a usage error: usage on stderr
    say(`qm: ${usage ? "fatal" : "temporary"}: ${uncoloured(err instanceof Error ? err.message : String(err))}`);
    process.exit(usage ? 100 : 111); // bad usage will not fix itself; a crash might
  }
}
void entry();
