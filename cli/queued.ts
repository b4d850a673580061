import { defineCommand } from "./_command.ts";
import { runQueued } from "../core/prog/queued.ts";
import { qmHome } from "../core/io/base/sys.ts";
import { exitWith } from "./_exit.ts";
import { stopWithParent } from "./_parent.ts";

const log = (line: string): void => void process.stderr.write(`${line}\n`);

export default defineCommand({
  args: {},
  async run() {
    const h = runQueued(qmHome(), log);
    process.on("SIGTERM", () => h.term());
    process.on("SIGINT", () => h.term());
    process.on("SIGHUP", () => {}); // nothing to read again: qm start's reload must not stop it
    process.on("SIGPIPE", () => {});
    stopWithParent();
    exitWith(await h.done, "qm queued");
  },
});
