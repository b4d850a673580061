import { defineCommand } from "./_command.ts";
import { serveWorker } from "../core/prog/local.ts";

export default defineCommand({
  meta: { name: "local-worker", description: "Serve local deliveries for one uid on stdin/stdout (started by qm lspawn)" },
  raw: true,
  async run() {
    await serveWorker(process.stdin, (b) => process.stdout.write(b));
    process.exit(0);
  },
});
