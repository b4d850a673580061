import { defineCommand } from "./_command.ts";
import { qread } from "../core/prog/qread.ts";
import { qmHome } from "../core/io/base/sys.ts";
import { exitWith } from "./_exit.ts";
import { endOut, watchOut, writeOut as write } from "./_stdout.ts";

export default defineCommand({
  raw: true,
  async run() {
    watchOut();
    const r = await qread(qmHome(), write);
    await endOut();
    exitWith(r, "qm qread");
  },
});
