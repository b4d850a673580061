import { parseStsPolicy, parseStsTxt, stsDomainOk, type StsPolicy } from "../../lib/tls/sts.ts";
import { readStsCache, writeStsCache } from "../tls/sts-cache.ts";
import { fetchStsPolicy } from "../tls/sts-fetch.ts";
import { lookup, lookupIps, type DnsOptions } from "./dns.ts";

// Which MTA-STS policy holds for a domain now (RFC 8461 §5): the TXT record
// through qm's resolver; the cached policy while its id is the TXT record's
// and its max_age has not run out; else a fresh fetch, cached. A fetch that
// fails falls back to a cached policy still in date (an attacker who blocks
// the fetch gains nothing), and only without one to no policy.

export interface StsContext {
  readonly dns: DnsOptions;
  readonly ca?: readonly string[];
  /** null: no cache (every delivery fetches). */
  readonly cacheDir: string | null;
  /** 443; another port only in tests that cannot bind 443. */
  readonly port: number;
  readonly timeoutMs: number;
  readonly now: () => number;
}

export interface StsFound {
  readonly policy: StsPolicy | null;
  /** How it was found, or why there is none: for the result text. */
  readonly note: string;
}

export async function stsPolicyFor(ctx: StsContext, domainIn: string): Promise<StsFound> {
  const domain = domainIn.toLowerCase().replace(/\.$/, "");
  if (!stsDomainOk(domain)) return { policy: null, note: "no MTA-STS for this name" };
  const now = ctx.now();
  const cached = ctx.cacheDir ? await readStsCache(ctx.cacheDir, domain) : null;
  const live = cached && cached.expires > now ? cached : null;
  // a TXT record's character-strings are joined (RFC 8461 §3.1)
  const txt = await lookup<string[]>(ctx.dns, `_mta-sts.${domain}`, "TXT");
  const id = txt.kind === "ok" ? parseStsTxt(txt.records.map((parts) => parts.join(""))) : null;
  if (id === null) return live ? { policy: live.policy, note: "cached" } : { policy: null, note: "no MTA-STS policy" };
  if (live && live.id === id) return { policy: live.policy, note: "cached" };
  const fetched = await fetchFresh(ctx, domain);
  if (typeof fetched === "string") {
    return live ? { policy: live.policy, note: `cached (refresh failed: ${fetched})` } : { policy: null, note: `MTA-STS policy fetch failed: ${fetched}` };
  }
  if (ctx.cacheDir) await writeStsCache(ctx.cacheDir, domain, id, now + fetched.policy.maxAge * 1000, fetched.text);
  return { policy: fetched.policy, note: "fetched" };
}

async function fetchFresh(ctx: StsContext, domain: string): Promise<{ policy: StsPolicy; text: string } | string> {
  const ips = await lookupIps(ctx.dns, `mta-sts.${domain}`);
  if (ips.kind !== "ok" || ips.records.length === 0) return `no address for mta-sts.${domain}`;
  let reason = "";
  for (const ip of ips.records.slice(0, 4)) {
    const r = await fetchStsPolicy(domain, { ip, port: ctx.port, ca: ctx.ca, timeoutMs: ctx.timeoutMs });
    if (!r.ok) {
      reason = r.reason;
      continue;
    }
    const policy = parseStsPolicy(r.text);
    return typeof policy === "string" ? policy : { policy, text: r.text };
  }
  return reason;
}
