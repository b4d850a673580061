import { fromBytes, toBytes } from "../../lib/base/bytes.ts";
import { ok, type Result } from "../../lib/base/result.ts";
import { formatAuthResults, headerEnd, stripForged } from "../../lib/dkim/auth-results.ts";
import { parseAuthPolicy, type AuthPolicy } from "../../lib/dkim/authpolicy.ts";
import { createCrlfNormalizer } from "../../lib/dkim/line-ends.ts";
import { readControlList } from "../base/control.ts";
import type { DnsOptions } from "../remote/dns.ts";
import { nameServers } from "../remote/resolv.ts";
import { mailauthResolver } from "./resolver.ts";

// Checking what arrives (qm-smtpd(8), "Authentication checks"): SPF at MAIL
// (RFC 7208, the MAIL FROM identity and the HELO identity), and after DATA
// DKIM (RFC 6376), ARC (RFC 8617) and DMARC (RFC 7489), with mailauth's
// submodules (its main entry needs a newer Node), every DNS question through
// qm's resolver. qm smtpd calls sender() when MAIL is accepted and message()
// once the data is in; both always come back with a result (DNS trouble is
// temperror, a thrown error from mailauth is temperror with its message),
// never with an exception, and within their time limits.

/** RFC 7208 §4.6.4: at least 20 seconds for one SPF evaluation. */
export const SPF_TIME_LIMIT_MS = 20_000;
/** DKIM keys, ARC keys and the DMARC record of one message, all together. */
export const MESSAGE_TIME_LIMIT_MS = 30_000;
/** RFC 6376 §6.1 lets a verifier limit the signatures it tries; the rest are reported as not processed. */
export const MAX_SIGNATURES = 10;
/** A message is held in memory this far for checking (qm init's databytes, 35 MiB); a larger one is queued with the SPF results only. */
export const MAX_HELD = 36_700_160;
/** RFC 8301 §3.2. */
const MIN_KEY_BITS = 1024;

export interface SenderCheck {
  /** Authentication-Results entries ("spf=pass (...) smtp.mailfrom=..."). */
  readonly entries: readonly string[];
  /** The MAIL FROM identity's result (the HELO identity's for a null sender). */
  readonly spf: string;
  /** Its domain when the result is pass: DMARC aligns with it. */
  readonly passDomain: string | null;
  /** The reply that refuses the MAIL command (spf:reject and an SPF fail); null: accepted. */
  readonly refuse: string | null;
}

export interface MessageCheck {
  /** The Authentication-Results field to put on top (byte string, LF-ended). */
  readonly field: string;
  /** The message with forged Authentication-Results fields (our authserv-id) removed. */
  readonly message: Uint8Array;
  readonly removed: number;
  /** The reply that refuses the message (dmarc:reject and a DMARC fail under p=reject); null: accepted. */
  readonly refuse: string | null;
  /** One line for the log: "spf=pass dkim=pass dmarc=pass arc=none". */
  readonly summary: string;
}

export interface InboundCheck {
  readonly policy: AuthPolicy;
  readonly authservId: string;
  sender(q: { readonly ip: string; readonly helo: string | null; readonly sender: string }): Promise<SenderCheck>;
  message(data: Uint8Array, from: SenderCheck, ip: string): Promise<MessageCheck>;
  /** For a message over MAX_HELD: the SPF entries only; `start` (its first MAX_HELD bytes) without forged fields. */
  unchecked(start: Uint8Array, from: SenderCheck): { field: string; head: Uint8Array; removed: number };
}

/** control/authpolicy read; null when it is absent (nothing is checked, mailauth is never loaded). */
export async function loadInboundCheck(home: string, me: string): Promise<Result<InboundCheck | null>> {
  const lines = await readControlList(home, "authpolicy");
  if (lines.kind !== "ok") return lines;
  if (lines.value === null) return ok(null);
  const policy = parseAuthPolicy(lines.value);
  if (policy.kind !== "ok") return policy;
  const servers = await nameServers(home);
  if (servers.kind !== "ok") return servers;
  return ok(inboundCheck(policy.value, me, { servers: servers.value }));
}

const printable = (s: string): string => s.replace(/[^\x21-\x7e]/g, "?").slice(0, 255);

export function inboundCheck(policy: AuthPolicy, authservId: string, dns: DnsOptions): InboundCheck {
  return {
    policy,
    authservId,
    sender: (q) => checkSender(policy, authservId, dns, q),
    message: (data, from, ip) => checkMessage(policy, authservId, dns, { data, from, ip }),
    unchecked(start, from) {
      const whole = fromBytes(start);
      const end = headerEnd(whole);
      const cut = stripForged(whole.slice(0, end), authservId);
      return { field: formatAuthResults(authservId, from.entries), head: toBytes(cut.head + whole.slice(end)), removed: cut.removed };
    },
  };
}

/** A UTF-8 byte string (an SMTPUTF8 address) as the text mailauth expects. */
const text = (bytes: string): string => Buffer.from(bytes, "latin1").toString("utf8");

async function spfOnce(dns: DnsOptions, mta: string, q: { ip: string; helo: string; sender: string }) {
  const { default: mod } = await import("mailauth/lib/spf/index.js");
  const resolver = mailauthResolver(dns, { deadline: Date.now() + SPF_TIME_LIMIT_MS });
  try {
    return await mod.spf({ ...q, mta, resolver, maxElapsedTime: SPF_TIME_LIMIT_MS });
  } catch (err) {
    return { domain: "", status: { result: "temperror", comment: `${mta}: ${err instanceof Error ? err.message : String(err)}` }, info: "" };
  }
}

async function checkSender(policy: AuthPolicy, mta: string, dns: DnsOptions, q: { ip: string; helo: string | null; sender: string }): Promise<SenderCheck> {
  const { default: tools } = await import("mailauth/lib/tools.js");
  const helo = q.helo !== null && !q.helo.startsWith("[") ? text(q.helo) : null;
  const sender = text(q.sender);
  const row = (r: { status: { result: string; comment?: string } }, smtp: Record<string, string>) =>
    tools.formatAuthHeaderRow("spf", { result: r.status.result, comment: r.status.comment, smtp });
  const [mail, heloCheck] = await Promise.all([
    sender !== "" || helo !== null ? spfOnce(dns, mta, { ip: q.ip, helo: helo ?? "", sender }) : null,
    sender !== "" && helo !== null ? spfOnce(dns, mta, { ip: q.ip, helo, sender: "" }) : null,
  ]);
  const entries: string[] = [];
  if (mail) entries.push(row(mail, sender !== "" ? { mailfrom: sender } : { helo: helo! }));
  if (heloCheck) entries.push(row(heloCheck, { helo: helo! }));
  const result = mail?.status.result ?? "none";
  const refuse = policy.spf === "reject" && result === "fail"
    ? `550 5.7.23 sorry, the SPF record of ${printable(mail!.domain)} does not allow ${printable(q.ip)} to send its mail (#5.7.23)`
    : null;
  return { entries, spf: result, passDomain: result === "pass" && mail ? mail.domain : null, refuse };
}

const SIGNATURE_FIELD = /^dkim-signature[ \t]*:/i;

/** The header block without the DKIM-Signature fields after the first MAX_SIGNATURES; how many went. */
function fewerSignatures(head: string): { head: string; dropped: number } {
  let seen = 0;
  let dropped = 0;
  let dropping = false;
  const kept: string[] = [];
  for (const line of head.split("\n")) {
    if (!/^[ \t]/.test(line)) {
      dropping = SIGNATURE_FIELD.test(line) && ++seen > MAX_SIGNATURES;
      if (dropping) dropped++;
    }
    if (!dropping) kept.push(line);
  }
  return { head: kept.join("\n"), dropped };
}

/** LF-ended bytes as the CR LF message a DKIM signer hashed. */
function crlf(bytes: Uint8Array): Buffer {
  const n = createCrlfNormalizer();
  return Buffer.concat([n.push(bytes), n.end()]);
}

const why = (err: unknown): string => (err instanceof Error ? err.message : String(err)).replace(/[()\\]/g, " ").slice(0, 200);

async function checkMessage(policy: AuthPolicy, id: string, dns: DnsOptions, m: { data: Uint8Array; from: SenderCheck; ip: string }): Promise<MessageCheck> {
  const whole = fromBytes(m.data);
  const end = headerEnd(whole);
  const cut = stripForged(whole.slice(0, end), id);
  const message = toBytes(cut.head + whole.slice(end));
  const few = fewerSignatures(whole.slice(0, end)); // verified as it came, forged fields and all
  const resolver = mailauthResolver(dns, { deadline: Date.now() + MESSAGE_TIME_LIMIT_MS });
  const entries = [...m.from.entries];
  const results: Record<string, string> = { spf: m.from.spf };
  const [{ default: verify }, { default: arcMod }, { default: dmarcMod }] = await Promise.all([
    import("mailauth/lib/dkim/verify.js"),
    import("mailauth/lib/arc/index.js"),
    import("mailauth/lib/dmarc/index.js"),
  ]);
  let dkim: Awaited<ReturnType<typeof verify.dkimVerify>> | null = null;
  try {
    dkim = await verify.dkimVerify(crlf(toBytes(few.head + whole.slice(end))), { resolver, minBitLength: MIN_KEY_BITS });
    entries.push(...(dkim.results.length > 0 ? dkim.results.map((r) => r.info) : ["dkim=none (no signatures)"]));
    results.dkim = dkim.results.find((r) => r.status.result === "pass") ? "pass" : (dkim.results[0]?.status.result ?? "none");
  } catch (err) {
    entries.push(`dkim=temperror (verifier failed: ${why(err)})`);
    results.dkim = "temperror";
  }
  if (few.dropped > 0) entries.push(`dkim=neutral (${few.dropped} signatures over the limit of ${MAX_SIGNATURES} not verified)`);
  let arcResult: Awaited<ReturnType<typeof arcMod.arc>> | undefined;
  if (dkim) {
    try {
      arcResult = await arcMod.arc(dkim.arc, { resolver, minBitLength: MIN_KEY_BITS, ip: m.ip });
      if (arcResult.info) entries.push(arcResult.info);
      results.arc = arcResult.status.result;
    } catch (err) {
      entries.push(`arc=temperror (${why(err)})`);
      results.arc = "temperror";
    }
  }
  let refuse: string | null = null;
  if (dkim && dkim.headerFrom.length > 0) {
    try {
      const { response } = await dmarcMod.evaluateDmarc({
        headerFrom: dkim.headerFrom,
        fromFields: dkim.fromFields,
        spfDomains: m.from.passDomain ? [m.from.passDomain] : [],
        dkimDomains: dkim.results.filter((r) => r.status.result === "pass").map((r) => ({ id: r.id, domain: r.signingDomain, aligned: r.status.aligned, underSized: r.status.underSized })),
        arcResult,
        resolver,
      });
      if (response) {
        entries.push(response.info);
        results.dmarc = response.status.result;
        if (policy.dmarc === "reject" && response.status.result === "fail" && response.policy === "reject") {
          refuse = `550 5.7.1 sorry, the DMARC policy of ${printable(response.domain ?? "the From domain")} rejects mail that neither SPF nor DKIM authenticates for it (#5.7.1)`;
        }
      }
    } catch (err) {
      entries.push(`dmarc=temperror (${why(err)})`);
      results.dmarc = "temperror";
    }
  }
  const summary = Object.entries(results).map(([k, v]) => `${k}=${v}`).join(" ");
  return { field: formatAuthResults(id, entries), message, removed: cut.removed, refuse, summary };
}
