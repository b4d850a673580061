import { defineCommand } from "./_command.ts";
import { stats } from "../core/prog/stats.ts";
import { exitWith } from "./_exit.ts";
import { endOut, watchOut, writeOut } from "./_stdout.ts";

export default defineCommand({
  args: {
    log: { type: "positional", required: false, description: "log files (plain, gzip'd, rotated); none or - : standard input" },
    json: { type: "boolean", description: "the report as JSON, for programs" },
    html: { type: "string", description: "write a self-contained page with charts to FILE" },
    since: { type: "string", description: "count from this time on: 2026-12-06, 2026-12-06T14:00 (UTC), or a span back from now (90m, 2d)" },
    until: { type: "string", description: "count up to (not including) this time, same forms" },
  },
  async run({ args }) {
    watchOut();
    let text = "";
    const r = await stats({
      paths: args._.map(String),
      json: Boolean(args.json),
      html: args.html ?? null,
      since: args.since ?? null,
      until: args.until ?? null,
      now: Date.now(),
      out: (t) => (text += t),
    });
    if (r.kind === "ok" && text) await writeOut(text);
    await endOut();
    exitWith(r, "qm stats");
  },
});
