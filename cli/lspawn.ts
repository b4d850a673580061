import { defineCommand } from "./_command.ts";
import { lspawn } from "../core/prog/lspawn.ts";
import { qmHome } from "../core/io/base/sys.ts";

export default defineCommand({
  async run({ args }) {
    process.stdout.on("error", () => {}); // qm send went away: finish what is in flight; stdin EOF ends us
    const dd = args._[0] === undefined ? undefined : String(args._[0]);
    await lspawn(process.stdin, (b) => process.stdout.write(b), { qmhome: qmHome(), defaultDelivery: dd });
    process.exit(0);
  },
});
