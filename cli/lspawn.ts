import { defineCommand } from "./_command.ts";
import { lspawn } from "../core/prog/lspawn.ts";
import { qmHome } from "../core/io/base/sys.ts";
import { watchParent } from "../core/io/base/parent.ts";

export default defineCommand({
  async run({ args }) {
    process.stdout.on("error", () => {});
    // stdin's end with qm send alive: finish what is in flight; qm send dead (killed): exit at once (qm-send(8))
    const orphaned = watchParent(() => process.exit(0), process.stdin, Number(process.env.QM_SEND_PID));
    delete process.env.QM_SEND_PID; // not for the deliveries
    const dd = args._[0] === undefined ? undefined : String(args._[0]);
    await lspawn(process.stdin, (b) => process.stdout.write(b), { qmhome: qmHome(), defaultDelivery: dd, orphaned });
    process.exit(0);
  },
});
