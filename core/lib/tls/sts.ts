/**
 * MTA-STS (RFC 8461): the `_mta-sts` TXT record, the policy file served at
 * https://mta-sts.DOMAIN/.well-known/mta-sts.txt, and which MX hosts a
 * policy allows. Pure: the fetch and the cache are in core/io/tls/.
 */

export type StsMode = "enforce" | "testing" | "none";

export interface StsPolicy {
  readonly mode: StsMode;
  /** MX patterns, lowercased: "mx.example.com" or "*.example.com". */
  readonly mx: readonly string[];
  /** Seconds (at most a year, RFC 8461 §3.2). */
  readonly maxAge: number;
}

/** The policy file's size limit (RFC 8461 §3.3 leaves it to the sender; real policies are well under 1 KiB). */
export const STS_POLICY_MAX = 64 * 1024;
export const STS_MAX_AGE_MAX = 31557600;
const MX_MAX = 100;

/**
 * The id of the domain's STS TXT record (RFC 8461 §3.1): among the TXT
 * records, those starting "v=STSv1"; exactly one must be there and carry
 * an id of 1 to 32 letters and digits, else there is no policy (null).
 */
export function parseStsTxt(records: readonly string[]): string | null {
  const sts = records.filter((r) => /^v=STSv1\s*(;|$)/.test(r));
  if (sts.length !== 1) return null;
  let id: string | null = null;
  for (const field of sts[0]!.split(";").slice(1)) {
    const f = field.trim();
    if (f === "") continue;
    const eq = f.indexOf("=");
    if (eq < 0) return null;
    const key = f.slice(0, eq).trim();
    const value = f.slice(eq + 1).trim();
    if (key === "id") {
      if (!/^[A-Za-z0-9]{1,32}$/.test(value) || id !== null) return null;
      id = value;
    }
  }
  return id;
}

/** The policy file's text, or why it is not a policy. */
export function parseStsPolicy(text: string): StsPolicy | string {
  if (text.length > STS_POLICY_MAX) return "policy too long";
  let version: string | null = null;
  let mode: string | null = null;
  let maxAge: number | null = null;
  const mx: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\r$/, "");
    if (line.trim() === "") continue;
    const colon = line.indexOf(":");
    if (colon < 0) return "a line without a colon";
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (key === "version") version ??= value;
    else if (key === "mode") mode ??= value;
    else if (key === "max_age") {
      if (!/^\d{1,10}$/.test(value)) return "max_age is not a number";
      maxAge ??= Math.min(Number(value), STS_MAX_AGE_MAX);
    } else if (key === "mx") {
      const p = value.toLowerCase().replace(/\.$/, "");
      if (!/^(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)+$/.test(p)) return "a bad mx pattern";
      if (mx.length >= MX_MAX) return `more than ${MX_MAX} mx lines`;
      mx.push(p);
    }
    // other keys: ignored (extensions)
  }
  if (version !== "STSv1") return "version is not STSv1";
  if (mode !== "enforce" && mode !== "testing" && mode !== "none") return "mode is not enforce, testing or none";
  if (maxAge === null) return "no max_age";
  if (mode !== "none" && mx.length === 0) return "no mx line";
  return { mode, mx, maxAge };
}

/** RFC 8461 §4.1: an MX host name against the policy's patterns; "*." stands for exactly one label. */
export function mxAllowed(policy: StsPolicy, host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  return policy.mx.some((p) => {
    if (!p.startsWith("*.")) return p === h;
    const dot = h.indexOf(".");
    return dot > 0 && h.slice(dot + 1) === p.slice(2);
  });
}

/** A cached policy: the TXT id it came with and when it runs out (ms since the epoch). */
export interface CachedSts {
  readonly id: string;
  readonly expires: number;
  readonly policy: StsPolicy;
}

/** The cache file's text (JSON), checked field by field; null when it is not one. */
export function parseCachedSts(text: string): CachedSts | null {
  try {
    const v = JSON.parse(text) as { id?: unknown; expires?: unknown; policy?: unknown };
    if (typeof v.id !== "string" || !/^[A-Za-z0-9]{1,32}$/.test(v.id) || typeof v.expires !== "number" || typeof v.policy !== "string") return null;
    const policy = parseStsPolicy(v.policy);
    return typeof policy === "string" ? null : { id: v.id, expires: v.expires, policy };
  } catch {
    return null;
  }
}

export function formatCachedSts(id: string, expires: number, policyText: string): string {
  return `${JSON.stringify({ id, expires, policy: policyText })}\n`;
}

/** A domain name fit to be a cache file's name and a host to fetch from. */
export function stsDomainOk(domain: string): boolean {
  return domain.length <= 253 && /^[a-z0-9_-]+(\.[a-z0-9_-]+)+$/.test(domain);
}
