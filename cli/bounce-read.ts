import { writeSync } from "node:fs";
import { defineCommand } from "./_command.ts";
import { bounceRead } from "../core/prog/bounce-read.ts";
import { stdinChunks } from "../core/prog/inject.ts";
import { exitRaw } from "./_exit.ts";

export default defineCommand({
  raw: true,
  async run() {
    const code = await bounceRead(process.env, stdinChunks(), (l) => void writeSync(1, l));
    exitRaw(code);
  },
});
