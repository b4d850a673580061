import { ok, temp, type Result } from "../base/result.ts";

// control/authpolicy (qm-control(5), qm-smtpd(8)): whether qm smtpd checks
// what arrives (SPF, DKIM, DMARC, ARC) and what it does with each outcome.
// The file absent: nothing is checked. Present, even empty: every check
// runs and its result goes into one Authentication-Results header field;
// `check:action` lines choose more than the header:
//   spf:reject    a MAIL FROM whose SPF result is fail: 550 5.7.23 at MAIL
//   dmarc:reject  a DMARC fail under the policy p=reject: 550 5.7.1 after DATA
//   spf:header, dmarc:header   the default, said out loud
// A line that is none of these is a mistake the operator must see: the
// controls do not read (smtpd answers 421 and logs why), rather than a
// typo silently turning a reject off.

export type AuthAction = "header" | "reject";

export interface AuthPolicy {
  readonly spf: AuthAction;
  readonly dmarc: AuthAction;
}

export const HEADER_ONLY: AuthPolicy = { spf: "header", dmarc: "header" };

const CHECKS = new Set(["spf", "dmarc"]);
const ACTIONS = new Set<string>(["header", "reject"]);

/** The lines of control/authpolicy (comments and blank lines already gone). */
export function parseAuthPolicy(lines: readonly string[]): Result<AuthPolicy> {
  const out = new Map<string, AuthAction>();
  for (const raw of lines) {
    const line = raw.trim().toLowerCase();
    const m = /^([a-z]+)\s*:\s*([a-z]+)$/.exec(line);
    if (!m || !CHECKS.has(m[1]!) || !ACTIONS.has(m[2]!)) {
      return temp(`control/authpolicy: unusable line ${JSON.stringify(raw.slice(0, 80))} (expected spf:reject, spf:header, dmarc:reject or dmarc:header)`, "4.3.0");
    }
    out.set(m[1]!, m[2] as AuthAction);
  }
  return ok({ spf: out.get("spf") ?? "header", dmarc: out.get("dmarc") ?? "header" });
}
