import { defineCommand } from "./_command.ts";
import { qctl } from "../core/prog/qctl.ts";
import { parseQctlArgs } from "../core/lib/queue/qctl.ts";
import { qmHome } from "../core/io/base/sys.ts";
import { exitWith } from "./_exit.ts";
import { endOut, watchOut, writeOut as write } from "./_stdout.ts";

export default defineCommand({
  raw: true, // its own words (core/lib/queue/qctl.ts): a sender like -x must not be taken for an option
  async run({ rawArgs }) {
    const cmd = parseQctlArgs(rawArgs);
    if (cmd.kind !== "ok") exitWith(cmd, "qm qctl");
    watchOut();
    const r = await qctl(cmd.value, { home: qmHome(), argv: rawArgs, out: write });
    await endOut();
    exitWith(r, "qm qctl");
  },
});
