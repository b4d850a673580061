/**
 * What a DNS reply means, on messages already decoded (dns-packet lives in
 * core/io/remote/dns.ts): is it the reply to our question, what does its rcode say,
 * which records answer the name after CNAMEs. Everything here is hostile.
 */
import type { Mx } from "./mx.ts";
import { fromBytes } from "../base/bytes.ts";

export type QType = "MX" | "A" | "AAAA" | "CNAME" | "TXT" | "PTR" | "TLSA";

export interface DnsRecord {
  readonly name?: unknown;
  readonly type?: unknown;
  readonly class?: unknown;
  readonly data?: unknown;
}
export interface DnsMessage {
  readonly id?: unknown;
  readonly type?: unknown;
  readonly rcode?: unknown;
  readonly flag_tc?: unknown;
  /** The AD bit: the server says it validated the answer with DNSSEC (believed only from a validating server). */
  readonly flag_ad?: unknown;
  readonly questions?: readonly DnsRecord[];
  readonly answers?: readonly DnsRecord[];
}

/** CNAME links followed for one name (qmail's NQ bound is 10). */
export const CNAME_MAX = 10;

/** Lowercased, without the final dot. */
function normName(name: unknown): string {
  return typeof name === "string" ? name.toLowerCase().replace(/\.$/, "") : "\0invalid";
}

/** True only for the reply to exactly this query: same id, a response, one question with our name and type. */
export function isReplyTo(msg: DnsMessage, id: number, name: string, type: QType): boolean {
  if (msg.id !== id || msg.type !== "response") return false;
  const q = msg.questions;
  if (!q || q.length !== 1) return false;
  const [only] = q;
  return normName(only?.name) === normName(name) && only?.type === type && (only.class ?? "IN") === "IN";
}

/**
 * `secure`: every reply on the way (CNAMEs included) came from a server
 * marked validating in control/resolvers and had the AD bit set (RFC 7672
 * §2.1); absent: not known to be secure.
 */
export type Answer<T> =
  | { readonly kind: "ok"; readonly records: readonly T[]; readonly canonical: string; readonly chaseTo?: string; readonly secure?: boolean }
  | { readonly kind: "nxdomain"; readonly secure?: boolean }
  | { readonly kind: "temp"; readonly reason: string };

/** NOERROR answers, NXDOMAIN is final, everything else (SERVFAIL, REFUSED, …) is temporary. */
export function rcodeAnswer(rcode: unknown): Answer<never> | null {
  if (rcode === "NOERROR") return null;
  if (rcode === "NXDOMAIN") return { kind: "nxdomain" };
  return { kind: "temp", reason: `DNS server said ${typeof rcode === "string" ? rcode : "an unknown rcode"}` };
}

function dataOf<T>(type: QType, data: unknown): T | null {
  if (type === "A") return typeof data === "string" && /^\d{1,3}(\.\d{1,3}){3}$/.test(data) ? (data as T) : null;
  if (type === "AAAA") return typeof data === "string" && data.includes(":") ? (data.toLowerCase() as T) : null;
  if (type === "MX") {
    const d = data as { preference?: unknown; exchange?: unknown } | null;
    if (typeof d?.preference !== "number" || typeof d.exchange !== "string") return null;
    return { preference: d.preference, exchange: normName(d.exchange) } as T;
  }
  if (type === "TXT") return txtOf(data) as T | null;
  if (type === "TLSA") return tlsaOf(data) as T | null;
  return typeof data === "string" ? (normName(data) as T) : null;
}

/** A TLSA record (RFC 6698 §2.1) with its data as lowercase hex; null when a field is missing or out of range. */
function tlsaOf(data: unknown): { usage: number; selector: number; matchingType: number; data: string } | null {
  const d = data as { usage?: unknown; selector?: unknown; matchingType?: unknown; certificate?: unknown } | null;
  const octet = (n: unknown): n is number => typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 255;
  if (!d || !octet(d.usage) || !octet(d.selector) || !octet(d.matchingType) || !(d.certificate instanceof Uint8Array)) return null;
  let hex = "";
  for (const b of d.certificate) hex += b.toString(16).padStart(2, "0");
  return { usage: d.usage, selector: d.selector, matchingType: d.matchingType, data: hex };
}

/** A TXT record's character-strings, each as a byte string; null when the data is not a list of byte runs. */
function txtOf(data: unknown): string[] | null {
  const parts = Array.isArray(data) ? data : [data];
  if (!parts.every((p) => p instanceof Uint8Array || typeof p === "string")) return null;
  return parts.map((p) => (typeof p === "string" ? p : fromBytes(p as Uint8Array)));
}

/**
 * The records of `type` for `name` in an answer section, following CNAMEs
 * inside it (at most CNAME_MAX links). When the chain leaves the section,
 * `chaseTo` names the target to ask for next.
 */
export function extract<T>(msg: DnsMessage, name: string, type: QType, budget = CNAME_MAX): Answer<T> | { kind: "loop" } {
  const bad = rcodeAnswer(msg.rcode);
  if (bad) return bad;
  const answers = msg.answers ?? [];
  let current = normName(name);
  for (let hops = 0; hops <= budget; hops++) {
    const here = answers.filter((r) => normName(r.name) === current && (r.class ?? "IN") === "IN");
    const records = here.filter((r) => r.type === type).map((r) => dataOf<T>(type, r.data)).filter((d): d is T => d !== null);
    if (records.length > 0 || type === "CNAME") return { kind: "ok", records, canonical: current };
    const cname = here.find((r) => r.type === "CNAME");
    const target = cname ? dataOf<string>("CNAME", cname.data) : null;
    if (target === null) return { kind: "ok", records: [], canonical: current };
    if (hops === budget) break;
    current = target;
    if (!answers.some((r) => normName(r.name) === current)) return { kind: "ok", records: [], canonical: current, chaseTo: current };
  }
  return { kind: "loop" };
}

/** RFC 7505: a single MX with preference 0 and the root as exchange. */
export function isNullMx(mxs: readonly Mx[]): boolean {
  return mxs.length === 1 && mxs[0]!.preference === 0 && (mxs[0]!.exchange === "" || mxs[0]!.exchange === ".");
}
