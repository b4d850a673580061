import { defineCommand } from "./_command.ts";
import { deliverAsCli } from "../core/prog/local.ts";

export default defineCommand({
  async run({ args }) {
    // positionals only, after "--": user home local dash ext domain sender defaultdelivery
    const code = await deliverAsCli(args._.map(String), (t) => process.stdout.write(t));
    process.exitCode = code;
  },
});
