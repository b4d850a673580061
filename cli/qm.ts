#!/usr/bin/env tsx
import { defineCommand, runSub, type Command } from "./_command.ts";
import { writeSync } from "node:fs";
import { invokedAs, request, showHelp, uncoloured, usageText } from "./_entry.ts";
import { say } from "./_exit.ts";
// qm inject is loaded with the entry, not on demand: one process per message,
// and every module chunk loaded separately costs a start ~0.15 ms on Bun
// (bench/startup.sh); inject's own modules are small and MIME-free.
import inject from "./inject.ts";

// Lazy subcommands but inject: each loads only what it needs (no MIME parser on the inject path).
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each command has its own args type
const SUB: Record<string, () => Promise<Command<any>>> = {
  // (one line per subcommand, kept in alphabetical order)
  init: () => import("./init.ts").then((m) => m.default),
  inject: async () => inject,
  qctl: () => import("./qctl.ts").then((m) => m.default),
  qmqpd: () => import("./qmqpd.ts").then((m) => m.default),
  qread: () => import("./qread.ts").then((m) => m.default),
  qstat: () => import("./qstat.ts").then((m) => m.default),
  queue: () => import("./queue.ts").then((m) => m.default),
  send: () => import("./send.ts").then((m) => m.default),
  sendmail: () => import("./sendmail.ts").then((m) => m.default),
  start: () => import("./start.ts").then((m) => m.default),
  local: () => import("./local.ts").then((m) => m.default),
  "local-worker": () => import("./local-worker.ts").then((m) => m.default),
  lspawn: () => import("./lspawn.ts").then((m) => m.default),
  newu: () => import("./newu.ts").then((m) => m.default),
  forward: () => import("./forward.ts").then((m) => m.default),
  maildirmake: () => import("./maildirmake.ts").then((m) => m.default),
  smtpd: () => import("./smtpd.ts").then((m) => m.default),
  newmrh: () => import("./newmrh.ts").then((m) => m.default),
  remote: () => import("./remote.ts").then((m) => m.default),
  rspawn: () => import("./rspawn.ts").then((m) => m.default),
  newaliases: () => import("./newaliases.ts").then((m) => m.default),
  fastforward: () => import("./fastforward.ts").then((m) => m.default),
};

const main = defineCommand({
  meta: { name: "qm", version: "0.1.0", description: "A mail transfer agent in the qmail tradition" },
  subCommands: SUB as never,
});

// No top-level await: the entry stays loadable as bytecode by `bun build --compile` (scripts/build.sh).
async function entry(): Promise<void> {
  // Called as sendmail, mailq or newaliases (a link to qm): sendmail's argv, not citty's.
  const as = invokedAs();
  if (as) await import("./sendmail.ts").then((m) => m.runSendmail(process.argv.slice(2), as));
  const req = request(process.argv.slice(2), new Set(Object.keys(SUB)));
  if (req.kind === "version") process.exit((writeSync(1, "qm 0.1.0\n"), 0));
  if (req.kind === "help") process.exit((await showHelp(main, SUB, req.sub), 0));

  const [name, ...rest] = process.argv.slice(2);
  const load = name !== undefined && Object.hasOwn(SUB, name) ? SUB[name] : undefined; // not "constructor" and the like
  try {
    if (load) await runSub(await load(), rest);
    else if (name !== undefined && !name.startsWith("-")) throw Object.assign(new Error(`Unknown command ${name}`), { name: "CLIError" });
    else await (await import("citty")).runCommand(main, { rawArgs: process.argv.slice(2) }); // its usage errors
  } catch (err) {
    const usage = err instanceof Error && err.name === "CLIError"; // citty does not export the class
    if (usage) writeSync(2, await usageText(main, SUB, load ? (name ?? null) : null)); // a usage error: usage on stderr
    say(`qm: ${usage ? "fatal" : "temporary"}: ${uncoloured(err instanceof Error ? err.message : String(err))}`);
    process.exit(usage ? 100 : 111); // bad usage will not fix itself; a crash might
  }
}
void entry();
