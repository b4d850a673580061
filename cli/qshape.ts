import { defineCommand } from "./_command.ts";
import { qshape } from "../core/prog/qshape.ts";
import { parseShapeArgs } from "../core/lib/stats/qshape.ts";
import { qmHome } from "../core/io/base/sys.ts";
import { exitWith } from "./_exit.ts";
import { endOut, watchOut, writeOut } from "./_stdout.ts";

export default defineCommand({
  raw: true,
  async run({ rawArgs }) {
    const o = parseShapeArgs(rawArgs);
    if (o.kind !== "ok") exitWith(o, "qm qshape");
    watchOut();
    let text = "";
    const r = await qshape(qmHome(), { ...o.value, now: Date.now(), out: (t) => (text += t) });
    if (r.kind === "ok") await writeOut(text);
    await endOut();
    exitWith(r, "qm qshape");
  },
});
