import { defineCommand } from "./_command.ts";
import { exitWhenOrphaned, lspawn } from "../core/prog/lspawn.ts";
import { qmHome } from "../core/io/base/sys.ts";

export default defineCommand({
  async run({ args }) {
    process.stdout.on("error", () => {});
    // stdin's end with qm send alive: finish what is in flight; qm send dead (killed): exit at once (qm-send(8))
    const orphaned = exitWhenOrphaned(process.stdin);
    const dd = args._[0] === undefined ? undefined : String(args._[0]);
    await lspawn(process.stdin, (b) => process.stdout.write(b), { qmhome: qmHome(), defaultDelivery: dd, orphaned });
    process.exit(0);
  },
});
