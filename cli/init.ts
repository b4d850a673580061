import { defineCommand } from "./_command.ts";
import { init } from "../core/prog/init.ts";
import { qmHome } from "../core/io/base/sys.ts";
import { exitWith } from "./_exit.ts";

export default defineCommand({
  args: {
    me: { type: "string", description: "this host's name for control/me (default: the system host name)" },
    rename: { type: "boolean", description: "with --me: rename an existing home (me, and locals, rcpthosts, defaulthost, defaultdomain where they hold the old name)" },
  },
  async run({ args }) {
    exitWith(await init(qmHome(), { me: args.me, rename: args.rename === true, out: (l) => process.stderr.write(`${l}\n`) }), "qm init");
  },
});
