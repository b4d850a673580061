import { defineCommand } from "citty";
import { inject, parseInjectArgs, stdinChunks } from "../core/prog/inject.ts";
import { qmHome } from "../core/io/sys.ts";
import { exitWith } from "./_exit.ts";

export default defineCommand({
  meta: { name: "inject", description: "Complete a message's header and queue it (qmail-inject): [-nNaAhH] [-f sender] [recip ...]" },
  async run({ rawArgs }) {
    const opts = parseInjectArgs(rawArgs);
    if (opts.kind !== "ok") exitWith(opts, "qm inject");
    const r = await inject(opts.value, { home: qmHome(), env: process.env, input: stdinChunks(), out: process.stdout });
    if (r.kind === "ok" && !r.value.queued) await new Promise<void>((resolve) => process.stdout.end(() => resolve()));
    exitWith(r, "qm inject");
  },
});
