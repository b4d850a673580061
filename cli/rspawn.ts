import { defineCommand } from "./_command.ts";
import { exitWhenOrphaned, rspawn } from "../core/prog/rspawn.ts";
import { qmHome } from "../core/io/base/sys.ts";

export default defineCommand({
  raw: true,
  async run() {
    process.stdout.on("error", () => {});
    // stdin's end with qm send alive: finish what is in flight; qm send dead (killed): exit at once (qm-send(8))
    const orphaned = exitWhenOrphaned(process.stdin);
    await rspawn(qmHome(), process.stdin, (b) => process.stdout.write(b), orphaned);
    process.stdout.write("", () => process.exit(0));
  },
});
