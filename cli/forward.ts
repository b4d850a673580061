import { defineCommand } from "./_command.ts";
import { forward } from "../core/prog/forward.ts";
import { qmHome } from "../core/io/base/sys.ts";
import { exitWith } from "./_exit.ts";

export default defineCommand({
  meta: { name: "forward", description: "Forward the message on stdin to the given addresses with sender $NEWSENDER (qmail's forward)" },
  async run({ args }) {
    const r = await forward(qmHome(), args._.map(String), process.stdin, process.env);
    if (r.kind === "ok") process.stderr.write(`forward: qp ${r.value}\n`);
    exitWith(r, "forward");
  },
});
