import { defineCommand } from "./_command.ts";
import { newaliases } from "../core/prog/newaliases.ts";
import { qmHome } from "../core/io/base/sys.ts";
import { exitWith } from "./_exit.ts";

export default defineCommand({
  async run({ args }) {
    process.umask(0o033);
    exitWith(await newaliases(qmHome(), args._[0] === undefined ? undefined : String(args._[0])), "newaliases");
  },
});
