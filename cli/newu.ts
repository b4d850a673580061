import { defineCommand } from "./_command.ts";
import { newu } from "../core/prog/newu.ts";
import { qmHome } from "../core/io/base/sys.ts";
import { exitWith } from "./_exit.ts";

export default defineCommand({
  raw: true,
  async run() {
    process.umask(0o033);
    exitWith(await newu(qmHome()), "qm newu");
  },
});
