import { defineCommand } from "./_command.ts";
import { qstat } from "../core/prog/qstat.ts";
import { qmHome } from "../core/io/base/sys.ts";
import { exitWith } from "./_exit.ts";

export default defineCommand({
  raw: true,
  async run() {
    exitWith(await qstat(qmHome(), (text) => process.stdout.write(text)), "qm qstat");
  },
});
