import { defineCommand } from "./_command.ts";
import { runQueue } from "../core/prog/queue.ts";
import { qmHome } from "../core/io/base/sys.ts";
import { exitRaw } from "./_exit.ts";

export default defineCommand({
  raw: true,
  async run() {
    process.umask(0o033);
    process.on("SIGPIPE", () => {});
    setTimeout(() => exitRaw(52), 86_400_000).unref(); // qmail-queue's DEATH: a stuck queue program gives up after a day
    exitRaw(await runQueue(qmHome(), process.stdin, 1));
  },
});
