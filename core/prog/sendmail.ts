/**
 * The sendmail wrapper (docs/qmail.md §8): sendmail's command line on top of the
 * other parts. Messages go through qm inject in-process (one process per
 * message, no second start-up); -bs runs `qm smtpd` on our stdin/stdout as a
 * trusted local client; -bp lists the queue; -q is one queue run
 * (`qm send --once`); -bi and newaliases run `qm newaliases`.
 */
import { injectEnv, smtpEnv, type SendmailPlan } from "../lib/inject/sendmail-args.ts";
import { ok, type Result } from "../lib/base/result.ts";
import type { SendmailDsn } from "../lib/inject/args.ts";

type Env = NodeJS.ProcessEnv;

/** qm inject's entry, passed in by the caller (a program never imports another program). */
export type InjectFn = (
  opts: { readonly mode: "H" | "a"; readonly print: false; readonly sender: string | null; readonly recipients: readonly string[]; readonly dsn?: SendmailDsn },
  ctx: { readonly home: string; readonly env: Env; readonly input: AsyncIterable<Uint8Array>; readonly blocking?: boolean },
) => Promise<Result<unknown>>;

export interface SendmailDeps {
  readonly home: string;
  readonly env: Env;
  readonly input: AsyncIterable<Uint8Array>;
  readonly inject: InjectFn;
  /** one message and exit: synchronous I/O (InjectContext.blocking) */
  readonly blocking?: boolean;
  /** Runs `qm <sub> args...` with our stdio and this environment; resolves its exit code. */
  readonly runSelf?: (sub: string, args: readonly string[], env: Env) => Promise<number>;
}

/** ok(exit code) when the work was handed to another part; a failure otherwise. */
export async function sendmail(plan: SendmailPlan, deps: SendmailDeps): Promise<Result<number>> {
  const run = deps.runSelf ?? runSelf;
  switch (plan.kind) {
    case "inject": {
      const env = injectEnv(plan, deps.env) as Env;
      const opts = { mode: plan.mode, print: false, sender: plan.sender, recipients: plan.recipients, ...(plan.dsn ? { dsn: plan.dsn } : {}) } as const;
      const r = await deps.inject(opts, { home: deps.home, env, input: deps.input, blocking: deps.blocking });
      return r.kind === "ok" ? ok(0) : r;
    }
    case "smtp":
      return ok(await run("smtpd", [], smtpEnv(deps.env) as Env));
    case "list":
      return ok(await run("qread", [], deps.env));
    case "run":
      return ok(await run("send", ["--once"], deps.env));
    case "newaliases":
      return ok(await run("newaliases", [], deps.env));
  }
}

/**
 * `qm sub args...` sharing our stdin, stdout and stderr. Flags are passed as
 * given: every caller here passes fixed words, never an address.
 * A child killed by a signal counts as a temporary failure (111).
 */
async function runSelf(sub: string, args: readonly string[], env: Env): Promise<number> {
  // loaded here, not at the top: `sendmail -t`, one process per message, never starts a child
  const { spawn } = await import("node:child_process");
  const self = (await import("../io/base/self.ts")).selfCommand();
  return new Promise((resolve) => {
    const child = spawn(self.cmd, [...self.args, sub, ...args], { stdio: "inherit", env, argv0: "qm" });
    child.on("error", () => resolve(111));
    child.on("close", (code) => resolve(code ?? 111));
  });
}

