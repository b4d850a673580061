import { defineCommand } from "./_command.ts";
import { fastforwardCli } from "../core/prog/fastforward.ts";
import { qmHome } from "../core/io/base/sys.ts";

export default defineCommand({
  args: { p: { type: "boolean", description: "pass through: unknown → 0, handled → 99" }, d: { type: "boolean", description: "recipient is $DEFAULT@$HOST" } },
  async run({ args }) {
    const cdb = args._[0] === undefined ? undefined : String(args._[0]);
    process.exitCode = await fastforwardCli(qmHome(), cdb, { pass: !!args.p, useDefault: !!args.d }, (t) => process.stderr.write(t));
  },
});
