import { defineCommand } from "./_command.ts";
import { inject, stdinChunks } from "../core/prog/inject.ts";
import { sendmail } from "../core/prog/sendmail.ts";
import { parseSendmailArgs, type Personality } from "../core/lib/inject/sendmail-args.ts";
import { qmHome } from "../core/io/base/sys.ts";
import { exitRaw, exitWith } from "./_exit.ts";

/** The wrapper's whole run: also reached from cli/qm.ts when called as sendmail, mailq or newaliases. */
export async function runSendmail(argv: readonly string[], as: Personality): Promise<never> {
  const name = as === "sendmail" ? "sendmail" : as;
  const plan = parseSendmailArgs(argv, as);
  if (plan.kind !== "ok") exitWith(plan, name);
  const r = await sendmail(plan.value, { home: qmHome(), env: process.env, input: stdinChunks(), inject, blocking: true });
  if (r.kind !== "ok") exitWith(r, name);
  exitRaw(r.value);
}

export default defineCommand({
  raw: true,
  async run({ rawArgs }) {
    await runSendmail(rawArgs, "sendmail");
  },
});
