/**
 * SMTP TLS Reporting (RFC 8460): the one-line record qm remote appends for
 * each new SMTP session's TLS outcome (core/io/tls/rpt-store.ts), and the
 * aggregate report for one UTC day and one policy domain that `qm tlsrpt`
 * writes (RFC 8460 §4). Pure: the file and the clock are the caller's.
 */

export type PolicyType = "sts" | "tlsa" | "no-policy-found";

/** The result types of RFC 8460 §4.3 that qm reports. */
export const RESULT_TYPES = [
  "starttls-not-supported", "certificate-host-mismatch", "certificate-expired", "certificate-not-trusted",
  "validation-failure", "tlsa-invalid", "dnssec-invalid", "dane-required", "sts-policy-fetch-error",
  "sts-policy-invalid", "sts-webpki-invalid",
] as const;

/** One session: what policy held and how TLS went. */
export interface RptRecord {
  /** ms since the epoch */
  readonly time: number;
  readonly domain: string;
  readonly policyType: PolicyType;
  /** TLSA records in presentation form, or the MTA-STS policy's lines; empty for no-policy-found. */
  readonly policyString: readonly string[];
  /** The MTA-STS policy's mx patterns, or the MX host a TLSA RRset belongs to. */
  readonly mxHost: readonly string[];
  readonly ok: boolean;
  /** The failure's result type (when !ok). */
  readonly resultType?: string;
  readonly receivingIp: string;
  readonly receivingMx: string;
}

/** A record line's limit: one write(2) of it is appended whole. */
export const RPT_LINE_MAX = 4000;
/** What one day's report keeps (more sessions are counted, not itemised). */
export const RPT_LIMITS = { domains: 100_000, policiesPerDomain: 100, detailsPerPolicy: 1000 } as const;

const NAME = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;
const clean = (s: string, max: number) => s.replace(/[^\x20-\x7e]/g, "?").slice(0, max);

/** The record as one JSON line (with its LF); null when it would be longer than RPT_LINE_MAX. */
export function formatRptRecord(r: RptRecord): string | null {
  const line = `${JSON.stringify({
    t: r.time, d: r.domain, p: r.policyType, s: r.policyString.map((x) => clean(x, 600)).slice(0, 8), m: r.mxHost.slice(0, 8).map((x) => clean(x, 255)),
    ok: r.ok, ...(r.resultType ? { r: r.resultType } : {}), ip: r.receivingIp, h: clean(r.receivingMx, 255),
  })}\n`;
  return line.length <= RPT_LINE_MAX ? line : null;
}

const strings = (v: unknown, n: number): v is string[] => Array.isArray(v) && v.length <= n && v.every((x) => typeof x === "string" && x.length <= 600);

/** One line of the store; null when it is not a record (a torn or foreign line is skipped). */
export function parseRptRecord(line: string): RptRecord | null {
  if (line.length > RPT_LINE_MAX) return null;
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (typeof v !== "object" || v === null) return null;
  const { t, d, p, s, m, ok, r, ip, h } = v;
  if (typeof t !== "number" || !Number.isFinite(t) || typeof d !== "string" || d.length > 253 || !NAME.test(d)) return null;
  if (p !== "sts" && p !== "tlsa" && p !== "no-policy-found") return null;
  if (!strings(s, 8) || !strings(m, 8) || typeof ok !== "boolean" || typeof ip !== "string" || ip.length > 64 || typeof h !== "string" || h.length > 255) return null;
  if (!ok && !(RESULT_TYPES as readonly unknown[]).includes(r)) return null;
  return { time: t, domain: d, policyType: p, policyString: s, mxHost: m, ok, resultType: ok ? undefined : (r as string), receivingIp: ip, receivingMx: h };
}

/** "YYYY-MM-DD" → the day's first and last second (UTC), or null for a date that is not one. */
export function dayRange(date: string): { start: number; end: number } | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return null;
  const start = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (new Date(start).toISOString().slice(0, 10) !== date) return null;
  return { start, end: start + 86_400_000 - 1000 };
}

/** The UTC day of a time, "YYYY-MM-DD" (the store's file names). */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export interface PolicyTally {
  readonly policy: { readonly type: PolicyType; readonly strings: readonly string[]; readonly mx: readonly string[] };
  ok: number;
  failed: number;
  readonly details: Map<string, { type: string; ip: string; mx: string; count: number }>;
}

/** A day's sessions, gathered per policy domain and policy. */
export interface RptTally {
  readonly domains: Map<string, Map<string, PolicyTally>>;
  /** Records outside RPT_LIMITS' domains and policies: counted nowhere (`qm tlsrpt` says how many). */
  dropped: number;
}

export function newTally(): RptTally {
  return { domains: new Map(), dropped: 0 };
}

export function addRecord(t: RptTally, r: RptRecord): void {
  let d = t.domains.get(r.domain);
  if (!d) {
    if (t.domains.size >= RPT_LIMITS.domains) return void t.dropped++;
    t.domains.set(r.domain, (d = new Map()));
  }
  const key = JSON.stringify([r.policyType, r.policyString, r.mxHost]);
  let p = d.get(key);
  if (!p) {
    if (d.size >= RPT_LIMITS.policiesPerDomain) return void t.dropped++;
    d.set(key, (p = { policy: { type: r.policyType, strings: r.policyString, mx: r.mxHost }, ok: 0, failed: 0, details: new Map() }));
  }
  if (r.ok) return void p.ok++;
  p.failed++;
  const dk = `${r.resultType}\0${r.receivingIp}\0${r.receivingMx}`;
  const det = p.details.get(dk);
  if (det) det.count++;
  else if (p.details.size < RPT_LIMITS.detailsPerPolicy) p.details.set(dk, { type: r.resultType!, ip: r.receivingIp, mx: r.receivingMx, count: 1 });
}

/** The RFC 8460 §4.4 report for one domain of the tally; null when it has none or the date is not one. */
export function tallyReport(t: RptTally, domain: string, meta: { readonly organization: string; readonly contact: string; readonly reportId: string; readonly date: string }): object | null {
  const d = t.domains.get(domain);
  const range = dayRange(meta.date);
  if (!d || !range) return null;
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
  return {
    "organization-name": meta.organization,
    "date-range": { "start-datetime": iso(range.start), "end-datetime": iso(range.end) },
    "contact-info": meta.contact,
    "report-id": meta.reportId,
    policies: [...d.values()].map((p) => ({
      policy: {
        "policy-type": p.policy.type,
        ...(p.policy.type === "no-policy-found" ? {} : { "policy-string": [...p.policy.strings] }),
        "policy-domain": domain,
        ...(p.policy.mx.length > 0 ? { "mx-host": [...p.policy.mx] } : {}),
      },
      summary: { "total-successful-session-count": p.ok, "total-failure-session-count": p.failed },
      ...(p.details.size > 0 ? {
        "failure-details": [...p.details.values()].map((x) => ({
          "result-type": x.type, ...(x.ip ? { "receiving-ip": x.ip } : {}), ...(x.mx ? { "receiving-mx-hostname": x.mx } : {}), "failed-session-count": x.count,
        })),
      } : {}),
    })),
  };
}

/** RFC 8460 §5.3's file name: sender!policy-domain!begin!end.json (seconds since the epoch). */
export function reportFileName(sender: string, domain: string, date: string): string | null {
  const r = dayRange(date);
  if (!r || !NAME.test(domain) || !NAME.test(sender.toLowerCase())) return null;
  return `${sender.toLowerCase()}!${domain}!${r.start / 1000}!${(r.end + 1000) / 1000}.json`;
}
