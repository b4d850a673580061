import { defineCommand } from "citty";
import { qread } from "../core/prog/qread.ts";
import { qmHome } from "../core/io/sys.ts";
import { exitWith } from "./_exit.ts";

/** stdout with back-pressure: a long listing piped into `head` or a slow pager. */
function write(text: string): Promise<void> | void {
  if (!process.stdout.write(text, "latin1")) return new Promise((resolve) => process.stdout.once("drain", () => resolve()));
}

export default defineCommand({
  meta: { name: "qread", description: "List the messages in the queue (qmail-qread)" },
  async run() {
    const r = await qread(qmHome(), write);
    await new Promise<void>((resolve) => process.stdout.end(() => resolve()));
    exitWith(r, "qm qread");
  },
});
