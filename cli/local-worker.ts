import { defineCommand } from "./_command.ts";
import { serveWorker } from "../core/prog/local.ts";

export default defineCommand({
  raw: true,
  async run() {
    await serveWorker(process.stdin, (b) => process.stdout.write(b));
    process.exit(0);
  },
});
