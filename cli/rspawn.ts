import { defineCommand } from "./_command.ts";
import { rspawn } from "../core/prog/rspawn.ts";
import { qmHome } from "../core/io/base/sys.ts";

export default defineCommand({
  raw: true,
  async run() {
    process.stdout.on("error", () => {}); // qm send went away: finish what is in flight; stdin EOF ends us
    await rspawn(qmHome(), process.stdin, (b) => process.stdout.write(b));
    process.stdout.write("", () => process.exit(0));
  },
});
