import { defineCommand } from "./_command.ts";
import { qstat } from "../core/prog/qstat.ts";
import { qmHome } from "../core/io/base/sys.ts";
import { exitWith } from "./_exit.ts";

export default defineCommand({
  meta: { name: "qstat", description: "Count the messages in the queue (qmail-qstat)" },
  raw: true,
  async run() {
    exitWith(await qstat(qmHome(), (text) => process.stdout.write(text)), "qm qstat");
  },
});
