import type { DnsOptions } from "../remote/dns.ts";
import { lookup } from "../remote/dns.ts";

// qm's own resolver (core/io/remote/dns.ts, control/resolvers) in the shape
// mailauth's `resolver` option takes, the shape of node:dns's resolve():
// TXT answers as arrays of character-strings, MX as { exchange, priority },
// A, AAAA, PTR and CNAME as strings; failures as errors with node:dns's
// codes (ENOTFOUND, ENODATA: the record is not there; ETIMEOUT, ESERVFAIL:
// try again). Every DNS question mailauth asks goes through here: SPF's
// A/AAAA/MX/PTR/exists lookups, DKIM and ARC keys, DMARC records.

export type MailauthResolver = (name: string, type: string) => Promise<unknown[]>;

export interface ResolverOptions {
  /** Date.now() after which every question fails at once with ETIMEOUT (a whole check's time limit). */
  readonly deadline?: number;
  readonly now?: () => number;
}

function dnsError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

const ANSWERS = new Set(["TXT", "A", "AAAA", "MX", "PTR", "CNAME"]);

function shape(type: string, records: readonly unknown[]): unknown[] {
  if (type === "TXT") return (records as readonly string[][]).map((r) => [...r]);
  if (type === "MX") return (records as readonly { preference: number; exchange: string }[]).map((m) => ({ exchange: m.exchange, priority: m.preference }));
  return [...records];
}

export function mailauthResolver(dns: DnsOptions, opts: ResolverOptions = {}): MailauthResolver {
  const now = opts.now ?? Date.now;
  return async (name, type) => {
    if (!ANSWERS.has(type)) throw dnsError("ENOTIMP", `qm answers only ${[...ANSWERS].join(", ")} questions for mailauth, not ${type}`);
    const left = opts.deadline === undefined ? Infinity : opts.deadline - now();
    if (left <= 0) throw dnsError("ETIMEOUT", `${name}: time limit for the check reached`);
    const asked = lookup<unknown>(dns, name, type as "TXT");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = left === Infinity ? null : new Promise<"late">((res) => { timer = setTimeout(() => res("late"), left); });
    const a = limit === null ? await asked : await Promise.race([asked, limit]);
    clearTimeout(timer);
    if (a === "late") throw dnsError("ETIMEOUT", `${name}: time limit for the check reached`);
    if (a.kind === "nxdomain") throw dnsError("ENOTFOUND", `${name}: no such name`);
    if (a.kind === "temp") throw dnsError(/timed out/.test(a.reason) ? "ETIMEOUT" : "ESERVFAIL", `${name}: ${a.reason}`);
    if (a.records.length === 0) throw dnsError("ENODATA", `${name}: no ${type} record`);
    return shape(type, a.records);
  };
}
