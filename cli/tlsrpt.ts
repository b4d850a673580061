import { defineCommand } from "./_command.ts";
import { tlsrpt } from "../core/prog/tlsrpt.ts";
import { qmHome } from "../core/io/base/sys.ts";
import { exitWith, say } from "./_exit.ts";
import { endOut, watchOut, writeOut } from "./_stdout.ts";

export default defineCommand({
  args: {
    date: { type: "positional", required: false, description: "the UTC day, YYYY-MM-DD (default: yesterday)" },
    dir: { type: "string", alias: "d", description: "write each report into DIR as sender!domain!begin!end.json (RFC 8460 §5.3) and print the file names" },
    contact: { type: "string", description: "the reports' contact-info (default: postmaster@ the name in control/me)" },
  },
  async run({ args }) {
    watchOut();
    let text = "";
    const r = await tlsrpt(qmHome(), {
      date: args.date ? String(args.date) : null,
      dir: args.dir ?? null,
      contact: args.contact ?? null,
      now: Date.now(),
      out: (t) => (text += t),
      warn: say,
    });
    if (r.kind === "ok" && text) await writeOut(text);
    await endOut();
    exitWith(r, "qm tlsrpt");
  },
});
