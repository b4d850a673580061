import { defineCommand } from "./_command.ts";
import { newmrh } from "../core/prog/newmrh.ts";
import { qmHome } from "../core/io/base/sys.ts";
import { exitWith } from "./_exit.ts";

export default defineCommand({
  raw: true,
  async run() {
    process.umask(0o033);
    exitWith(await newmrh(qmHome()), "qm newmrh");
  },
});
