import { defineCommand } from "./_command.ts";
import { forward } from "../core/prog/forward.ts";
import { qmHome } from "../core/io/base/sys.ts";
import { exitWith } from "./_exit.ts";

export default defineCommand({
  async run({ args }) {
    const r = await forward(qmHome(), args._.map(String), process.stdin, process.env);
    if (r.kind === "ok") process.stderr.write(`forward: qp ${r.value}\n`);
    exitWith(r, "forward");
  },
});
