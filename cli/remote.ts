import { defineCommand } from "./_command.ts";
import { remote } from "../core/prog/remote.ts";
import { qmHome } from "../core/io/base/sys.ts";

export default defineCommand({
  async run({ args }) {
    const chunks: string[] = [];
    await remote(qmHome(), args._.map(String), (r) => chunks.push(r));
    process.stdout.write(Buffer.from(chunks.join(""), "latin1"), () => process.exit(0));
  },
});
