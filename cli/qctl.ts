import { defineCommand } from "./_command.ts";
import { qctl } from "../core/prog/qctl.ts";
import { parseQctlArgs } from "../core/lib/queue/qctl.ts";
import { qmHome } from "../core/io/base/sys.ts";
import { exitWith } from "./_exit.ts";

// stdout with back-pressure; once the reader has gone (EPIPE: `qm qctl list | head`) writes answer false.
let gone = false;
async function write(text: string): Promise<boolean> {
  if (gone) return false;
  try {
    if (!process.stdout.write(text, "latin1")) await new Promise((resolve) => { process.stdout.once("drain", resolve); process.stdout.once("error", resolve); });
  } catch {
    gone = true; // Bun throws EPIPE from write() itself; Node emits "error"
  }
  return !gone;
}

export default defineCommand({
  meta: { name: "qctl", description: "Queue control: list, show, delete, hold, release, flush, requeue, bounce (man qm-qctl)" },
  raw: true, // its own words (core/lib/queue/qctl.ts): a sender like -x must not be taken for an option
  async run({ rawArgs }) {
    const cmd = parseQctlArgs(rawArgs);
    if (cmd.kind !== "ok") exitWith(cmd, "qm qctl");
    process.stdout.on("error", () => (gone = true));
    const r = await qctl(cmd.value, { home: qmHome(), argv: rawArgs, out: write });
    if (!gone) await new Promise((resolve) => { process.stdout.once("error", resolve); process.stdout.end(() => resolve(null)); });
    exitWith(r, "qm qctl");
  },
});
