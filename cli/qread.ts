import { defineCommand } from "./_command.ts";
import { qread } from "../core/prog/qread.ts";
import { qmHome } from "../core/io/base/sys.ts";
import { exitWith } from "./_exit.ts";

// stdout with back-pressure; once the reader has gone (EPIPE: `qm qread | head`) writes answer false.
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
  raw: true,
  async run() {
    process.stdout.on("error", () => (gone = true));
    const r = await qread(qmHome(), write);
    if (!gone) await new Promise((resolve) => { process.stdout.once("error", resolve); process.stdout.end(() => resolve(null)); });
    exitWith(r, "qm qread");
  },
});
