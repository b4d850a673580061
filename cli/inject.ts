import { defineCommand } from "./_command.ts";
import { inject, parseInjectArgs, stdinChunks } from "../core/prog/inject.ts";
import { qmHome } from "../core/io/base/sys.ts";
import { exitWith } from "./_exit.ts";

export default defineCommand({
  raw: true,
  async run({ rawArgs }) {
    const opts = parseInjectArgs(rawArgs);
    if (opts.kind !== "ok") exitWith(opts, "qm inject");
    const r = await inject(opts.value, {
      home: qmHome(),
      env: process.env,
      input: stdinChunks(),
      get out() {
        return process.stdout; // only -n prints: making process.stdout costs a start-up ~8 ms on Bun
      },
      blocking: true, // one message, then exit
    });
    if (r.kind === "ok" && !r.value.queued) await new Promise<void>((resolve) => process.stdout.end(() => resolve()));
    exitWith(r, "qm inject");
  },
});
