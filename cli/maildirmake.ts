import { defineCommand } from "./_command.ts";
import { maildirmake } from "../core/prog/maildirmake.ts";
import { exitWith } from "./_exit.ts";

export default defineCommand({
  meta: { name: "maildirmake", description: "Create a Maildir: DIR with tmp/, new/, cur/ (mode 0700)" },
  run({ args }) {
    exitWith(maildirmake(args._[0] === undefined ? undefined : String(args._[0])), "maildirmake");
  },
});
