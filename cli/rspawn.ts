import { defineCommand } from "./_command.ts";
import { rspawn } from "../core/prog/rspawn.ts";
import { qmHome } from "../core/io/base/sys.ts";
import { watchParent } from "../core/io/base/parent.ts";

export default defineCommand({
  raw: true,
  async run() {
    process.stdout.on("error", () => {});
    // stdin's end with qm send alive: finish what is in flight; qm send dead (killed): exit at once (qm-send(8))
    const orphaned = watchParent(() => process.exit(0), process.stdin, Number(process.env.QM_SEND_PID));
    delete process.env.QM_SEND_PID; // not for the deliveries
    await rspawn(qmHome(), process.stdin, (b) => process.stdout.write(b), orphaned);
    process.stdout.write("", () => process.exit(0));
  },
});
