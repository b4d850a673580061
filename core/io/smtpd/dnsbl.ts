import { extract, type DnsMessage } from "../../lib/remote/dns-answer.ts";
import { queryName, readAnswer, type DnsList, type ListAnswer } from "../../lib/smtpd/dnsbl.ts";
import { cacheGet, cachePut, newTtlCache } from "../../lib/smtpd/ttl-cache.ts";
import { ask, lookup, type DnsOptions } from "../remote/dns.ts";
import { nameServers } from "../remote/resolv.ts";

/**
 * The DNS list lookups of one connection (qm-smtpd(8), "DNS lists"),
 * through qm's own resolver (control/resolvers, else /etc/resolv.conf).
 * Every zone is asked at once when the client connects; each answer is kept
 * in this process for its TTL (at most MAX_TTL). A zone that does not
 * answer within LOOKUP_TIMEOUT_MS, fails or answers garbage lists no one:
 * the client is taken as not listed, and the reason is logged.
 */
export const LOOKUP_TIMEOUT_MS = 4000;
/** One try, one server at a time: a hanging list costs at most LOOKUP_TIMEOUT_MS of a session. */
const SERVER_TIMEOUT_MS = 2000;
const MAX_TTL_S = 3600;
/** An NXDOMAIN without an SOA to say how long it holds. */
const NEGATIVE_TTL_S = 60;
const CACHE_ENTRIES = 20_000;

const cache = newTtlCache<ListAnswer>(CACHE_ENTRIES);

export interface Lookups {
  /** Each zone's answer (zones whose lookup failed: "unusable"). */
  readonly answers: ReadonlyMap<string, ListAnswer>;
}

function withTimeout<T>(p: Promise<T>, ms: number, late: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<T>((res) => (timer = setTimeout(() => res(late), ms)));
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

/** Asks every zone of `lists` about `ip`; never rejects. `now` is the clock for the cache. */
export async function lookupLists(home: string, ip: string, lists: readonly DnsList[], now: () => number = Date.now): Promise<Map<string, ListAnswer>> {
  const out = new Map<string, ListAnswer>();
  if (lists.length === 0) return out;
  const servers = await nameServers(home);
  if (servers.kind !== "ok") {
    for (const l of lists) out.set(l.zone, { kind: "unusable", why: servers.reason });
    return out;
  }
  const dns: DnsOptions = { servers: servers.value, timeoutMs: SERVER_TIMEOUT_MS, tries: 1 };
  await Promise.all(lists.map(async (l) => {
    const name = queryName(ip, l.zone);
    if (name === null) return void out.set(l.zone, { kind: "unusable", why: `${ip} is not an IP address` });
    const hit = cacheGet(cache, name, now());
    if (hit) return void out.set(l.zone, hit);
    const a = await withTimeout(askList(dns, name), LOOKUP_TIMEOUT_MS, { answer: { kind: "unusable", why: `no answer within ${LOOKUP_TIMEOUT_MS / 1000} seconds` } as ListAnswer, ttl: 0 });
    cachePut(cache, name, a.answer, a.ttl * 1000, now());
    out.set(l.zone, a.answer);
  }));
  return out;
}

async function askList(dns: DnsOptions, name: string): Promise<{ answer: ListAnswer; ttl: number }> {
  const got = await ask(dns, name, "A").catch((err: unknown) => ({ kind: "temp" as const, reason: `DNS query failed: ${err instanceof Error ? err.message : String(err)}` }));
  if (got.kind === "temp") return { answer: { kind: "unusable", why: got.reason }, ttl: 0 };
  const a = extract<string>(got.msg, name, "A");
  if (a.kind === "nxdomain") return { answer: { kind: "not-listed" }, ttl: negativeTtl(got.msg) };
  if (a.kind !== "ok") return { answer: { kind: "unusable", why: a.kind === "temp" ? a.reason : "CNAME loop" }, ttl: 0 };
  if (a.records.length === 0 && (got.msg.answers ?? []).length > 0) return { answer: { kind: "unusable", why: "answer without A records" }, ttl: 0 };
  const answer = a.chaseTo !== undefined ? ({ kind: "unusable", why: "CNAME out of the zone" } as const) : readAnswer(a.records);
  return { answer, ttl: answer.kind === "unusable" ? 0 : a.records.length > 0 ? positiveTtl(got.msg) : negativeTtl(got.msg) };
}

const ttlOf = (r: unknown): number => {
  const t = (r as { ttl?: unknown }).ttl;
  return typeof t === "number" && t >= 0 ? t : 0;
};

function positiveTtl(msg: DnsMessage): number {
  const ttls = (msg.answers ?? []).filter((r) => r.type === "A").map(ttlOf);
  return Math.min(MAX_TTL_S, ...ttls);
}

/** RFC 2308 §5: the SOA's TTL or its minimum field, whichever is less. */
function negativeTtl(msg: DnsMessage): number {
  const soa = ((msg as { authorities?: readonly unknown[] }).authorities ?? []).find((r) => (r as { type?: unknown }).type === "SOA");
  if (!soa) return NEGATIVE_TTL_S;
  const min = (soa as { data?: { minimum?: unknown } }).data?.minimum;
  return Math.min(MAX_TTL_S, ttlOf(soa), typeof min === "number" && min >= 0 ? min : MAX_TTL_S);
}

/** A listed zone's TXT record at the same name (rblsmtpd's reply text); null when there is none in time. */
export async function listText(home: string, ip: string, zone: string): Promise<string | null> {
  const name = queryName(ip, zone);
  const servers = await nameServers(home);
  if (name === null || servers.kind !== "ok") return null;
  const dns: DnsOptions = { servers: servers.value, timeoutMs: SERVER_TIMEOUT_MS, tries: 1 };
  const a = await withTimeout(lookup<string[]>(dns, name, "TXT").catch(() => null), LOOKUP_TIMEOUT_MS, null);
  return a?.kind === "ok" && a.records.length > 0 ? a.records[0]!.join("") : null;
}
