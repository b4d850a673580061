import { defineCommand } from "./_command.ts";
import { init } from "../core/prog/init.ts";
import { qmHome } from "../core/io/base/sys.ts";
import { exitWith } from "./_exit.ts";

export default defineCommand({
  args: {
    me: { type: "string", description: "this host's name for control/me (default: the system host name)" },
  },
  async run({ args }) {
    exitWith(await init(qmHome(), { me: args.me, out: (l) => process.stderr.write(`${l}\n`) }), "qm init");
  },
});
