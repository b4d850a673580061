import { defineCommand } from "./_command.ts";
import { maildirmake } from "../core/prog/maildirmake.ts";
import { exitWith } from "./_exit.ts";

export default defineCommand({
  run({ args }) {
    exitWith(maildirmake(args._[0] === undefined ? undefined : String(args._[0])), "maildirmake");
  },
});
