import type { Record } from "../../lib/remote/report.ts";
import type { Credentials } from "../../lib/remote/smtp-auth.ts";
import type { Target } from "../../lib/remote/mx.ts";
import { formatTlsa, type DaneState, type Tlsa } from "../../lib/tls/dane.ts";
import type { TlsLevel } from "../../lib/tls/policy.ts";
import type { PolicyType } from "../../lib/tls/rpt.ts";
import { mxAllowed, type StsPolicy } from "../../lib/tls/sts.ts";
import { daneFor } from "../tls/dane.ts";
import type { DnsOptions } from "./dns.ts";
import { stsPolicyFor } from "./mta-sts.ts";
import type { Peer, TlsPolicy } from "./smtp-client.ts";

// How much TLS each address of one delivery gets (control/tlspolicy's
// level, then DANE and MTA-STS where the level asks for them). DANE wins
// over MTA-STS host by host (RFC 8461 §2): a host with DNSSEC-validated
// TLSA records is checked against them, and only the other hosts are held
// to the domain's MTA-STS policy.

/** How to talk to one address. */
export interface Session {
  readonly policy: TlsPolicy;
  readonly verify?: Peer["verify"];
  readonly tlsa?: readonly Tlsa[];
  readonly why: string;
  readonly ca?: readonly string[];
  readonly auth: Credentials | null;
  /** TLS from the first byte (a route to port 465). */
  readonly implicit: boolean;
  /**
   * The policy a TLS-RPT record names (RFC 8460 §4.4), and a policy failure
   * that makes every session a failure; null: the session is not recorded.
   */
  readonly rpt: { readonly type: PolicyType; readonly strings: readonly string[]; readonly mx: readonly string[]; readonly failure?: string } | null;
}

/** One address to try, or why it is skipped (a Z record; `s` names the policy for TLS-RPT). */
export type Plan = { readonly t: Target; readonly s: Session } | { readonly t: Target; readonly skip: Record; readonly s: Session };

export interface ChoiceInput {
  readonly host: string;
  readonly level: TlsLevel;
  readonly from: "tlspolicy" | "tlsrequired";
  /** A relay route of control/smtproutes: neither DANE nor MTA-STS (they are about the domain's own MX hosts). */
  readonly relay: boolean;
  readonly port: number;
  readonly base: Pick<Session, "ca" | "auth" | "implicit">;
  /** Whether the MX lookup was validated, and each exchange's address lookup. */
  readonly secure: { readonly mx: boolean; readonly address: ReadonlyMap<string, boolean> };
  readonly dns: DnsOptions;
  readonly sts: { readonly cacheDir: string | null; readonly port: number };
}

const NO_POLICY = { type: "no-policy-found", strings: [], mx: [] } as const;
const safe = (s: string) => s.replace(/[^\x21-\x7e]/g, "?");

/** A level of control/tlspolicy as the SMTP client's settings. */
export function tlsSession(level: "none" | "may" | "encrypt" | "verify", from: "tlspolicy" | "tlsrequired"): Pick<Session, "policy" | "verify" | "why"> {
  const why = `which control/${from} asks for`;
  if (level === "none") return { policy: "never", why };
  if (level === "may") return { policy: "may", why };
  if (level === "encrypt") return { policy: "must", why };
  return { policy: "must", verify: "ca", why: `and control/${from} asks for a verified certificate` };
}

function stsLines(p: StsPolicy): string[] {
  return ["version: STSv1", `mode: ${p.mode}`, ...p.mx.map((m) => `mx: ${m}`), `max_age: ${p.maxAge}`];
}

/** The plan for every target, in order; or one record for the whole delivery. */
export async function choose(c: ChoiceInput, targets: readonly Target[]): Promise<Plan[] | Record> {
  const { level, base } = c;
  if (level === "none" || level === "may" || level === "encrypt" || level === "verify" || c.relay) {
    const l = level === "dane" || level === "sts" ? "may" : level;
    const s: Session = { ...tlsSession(l, c.from), ...base, rpt: l === "none" || c.relay ? null : NO_POLICY };
    return targets.map((t) => ({ t, s }));
  }
  const hosts = [...new Set(targets.map((t) => t.exchange))];
  const states = await Promise.all(hosts.map((h) => daneFor(c.dns, h, c.port, { mx: c.secure.mx, address: c.secure.address.get(h) === true })));
  const dane = new Map<string, DaneState>(hosts.map((h, i) => [h, states[i]!]));
  const needSts = level === "sts" && states.some((d) => d.kind === "none");
  const found = needSts ? await stsPolicyFor({ dns: c.dns, ca: base.ca, cacheDir: c.sts.cacheDir, port: c.sts.port, timeoutMs: 10_000, now: Date.now }, c.host) : null;
  const sts = found?.policy ?? null;
  // a published policy that could not be fetched (and none cached): opportunistic TLS, reported as the policy's failure
  const noSts = found && !sts && found.note.startsWith("MTA-STS policy fetch failed") ? { type: "sts" as const, strings: [], mx: [], failure: "sts-policy-fetch-error" } : NO_POLICY;
  const plans = targets.map((t): Plan | null => {
    const d = dane.get(t.exchange)!;
    const x = safe(t.exchange);
    if (d.kind === "fail") {
      const s: Session = { ...base, policy: "must", why: "", rpt: { type: "tlsa", strings: [], mx: [t.exchange] } };
      return { t, s, skip: { letter: "Z", text: `Sorry, I cannot use ${x}: ${d.why}, and its MX and address records are DNSSEC-validated, so DANE may apply. (#4.7.5)\n` } };
    }
    if (d.kind === "dane" || d.kind === "encrypt") {
      const rpt = { type: "tlsa" as const, strings: d.all.map(formatTlsa), mx: [t.exchange] };
      if (d.kind === "encrypt") return { t, s: { ...base, policy: "must", why: `and ${x} has DNSSEC-validated TLSA records (none usable, so encryption without authentication)`, rpt } };
      return { t, s: { ...base, policy: "must", verify: "dane", tlsa: d.records, why: `and ${x} has DNSSEC-validated TLSA records (DANE)`, rpt } };
    }
    if (sts?.mode === "enforce") {
      const s: Session = { ...base, policy: "must", verify: "sts", why: `and the MTA-STS policy of ${safe(c.host)} (enforce) asks for a verified certificate`, rpt: { type: "sts", strings: stsLines(sts), mx: sts.mx } };
      return mxAllowed(sts, t.exchange) ? { t, s } : null;
    }
    if (sts?.mode === "testing") return { t, s: { ...base, policy: "may", verify: "sts-testing", why: "", rpt: { type: "sts", strings: stsLines(sts), mx: sts.mx } } };
    return { t, s: { ...tlsSession("may", c.from), ...base, rpt: noSts } };
  });
  // hosts an enforced MTA-STS policy does not list are left out, as if they were not in the MX list
  const kept = plans.filter((p): p is Plan => p !== null);
  if (plans.length > 0 && kept.length === 0) {
    return { letter: "Z", text: `Sorry, no MX host of ${safe(c.host)} matches its MTA-STS policy, which is in enforce mode. (#4.7.5)\n` };
  }
  return kept;
}
