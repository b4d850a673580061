/**
 * The Sender Rewriting Scheme (SRS, as in Shevek's paper and libsrs2): a
 * forward keeps SPF working by leaving with a sender at our own domain that
 * encodes the original one, and bounces to that address find their way back.
 *
 *   SRS0=HHHHHH=TT=orig-domain=orig-local@srsdomain      (first forward)
 *   SRS1=HHHHHH=first-hop==HHHH=TT=orig-domain=orig-local@srsdomain
 *                                                        (forward of a forward)
 *
 * HHHHHH is the start of the base64 HMAC of the rest under a secret of
 * control/srs (the caller computes it: this file is pure), TT the day number
 * modulo 1024 in base32. A reversal checks the hash against every secret and
 * the day against SRS_MAX_AGE_DAYS. The hash is compared without regard to
 * case, as libsrs2 does, because some hosts lowercase local parts.
 */

/** HMAC of `data` (already lowercased) under one secret, in base64. */
export type SrsMac = (data: string) => string;

export interface SrsKeys {
  /** The domain SRS addresses are made at and reversed for (control/srsdomain, else control/me). */
  readonly domain: string;
  /** One MAC per secret; the first makes new addresses, all are accepted. */
  readonly macs: readonly SrsMac[];
}

export const SRS_MAX_AGE_DAYS = 21;
export const SRS_HASH_LENGTH = 6;
const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const STAMP_CYCLE = 1024;
/** An address longer than this is not reversed (RFC 5321's path limit is 256). */
const MAX_ADDRESS = 512;

/** The two-character day stamp of `day` (days since the epoch). */
export function srsStamp(day: number): string {
  const d = ((day % STAMP_CYCLE) + STAMP_CYCLE) % STAMP_CYCLE;
  return B32[d >> 5]! + B32[d & 31]!;
}

/** Days since `tt` was made, as of `today`; null when `tt` is no stamp. */
function stampAge(tt: string, today: number): number | null {
  if (tt.length !== 2) return null;
  const hi = B32.indexOf(tt[0]!.toUpperCase());
  const lo = B32.indexOf(tt[1]!.toUpperCase());
  if (hi < 0 || lo < 0) return null;
  const then = hi * 32 + lo;
  return (((today % STAMP_CYCLE) - then) % STAMP_CYCLE + STAMP_CYCLE) % STAMP_CYCLE;
}

const hashOf = (mac: SrsMac, data: string) => mac(data.toLowerCase()).slice(0, SRS_HASH_LENGTH);

function split(addr: string): { local: string; domain: string } | null {
  const at = addr.lastIndexOf("@");
  if (at <= 0 || at === addr.length - 1) return null;
  return { local: addr.slice(0, at), domain: addr.slice(at + 1) };
}

const SRS0 = /^SRS0[=+-]/i;
const SRS1 = /^SRS1[=+-]/i;

/**
 * The sender a forward leaves with. The original comes back unchanged when
 * it needs no rewriting: the null sender, `#@[]`, an address without a
 * domain, or one at a domain `ours` says is this host's (its SPF covers us).
 * A sender that is already SRS at another host becomes SRS1, so the chain
 * does not grow with every hop.
 */
export function srsForward(sender: string, keys: SrsKeys, today: number, ours: (domain: string) => boolean): string {
  const a = split(sender);
  const mac = keys.macs[0];
  if (!a || mac === undefined || sender === "#@[]") return sender;
  const domain = a.domain.toLowerCase();
  if (domain === keys.domain.toLowerCase() || ours(domain)) return sender;
  if (SRS0.test(a.local)) {
    const opaque = a.local.slice(4); // keeps its separator: "=HHHH=TT=d=l"
    return `SRS1=${hashOf(mac, a.domain + opaque)}=${a.domain}=${opaque}@${keys.domain}`;
  }
  if (SRS1.test(a.local)) {
    const m = /^SRS1[=+-][^=]*=([^=]+)=([=+-].*)$/i.exec(a.local);
    if (m) {
      const [, first, opaque] = m;
      return `SRS1=${hashOf(mac, first + opaque)}=${first}=${opaque}@${keys.domain}`;
    }
  }
  const tt = srsStamp(today);
  return `SRS0=${hashOf(mac, tt + a.domain + a.local)}=${tt}=${a.domain}=${a.local}@${keys.domain}`;
}

export type SrsReversal =
  | { readonly kind: "ok"; readonly addr: string }
  | { readonly kind: "bad"; readonly reason: string };

/**
 * The original address behind an SRS address of ours; null when `addr` is
 * not one (another domain, or no SRS0/SRS1 local part). A forged, damaged or
 * expired one is "bad" with the reason.
 */
export function srsReverse(addr: string, keys: SrsKeys, today: number): SrsReversal | null {
  const a = split(addr);
  if (!a || a.domain.toLowerCase() !== keys.domain.toLowerCase()) return null;
  const isOne = SRS1.test(a.local);
  if (!isOne && !SRS0.test(a.local)) return null;
  if (addr.length > MAX_ADDRESS) return { kind: "bad", reason: "SRS address too long" };
  const good = (given: string, data: string) => given.length === SRS_HASH_LENGTH && keys.macs.some((m) => hashOf(m, data).toLowerCase() === given.toLowerCase());
  if (isOne) {
    const m = /^SRS1[=+-]([^=]*)=([^=]+)=([=+-].+)$/i.exec(a.local);
    if (!m) return { kind: "bad", reason: "malformed SRS1 address" };
    const [, hash, first, opaque] = m;
    if (!good(hash!, first! + opaque)) return { kind: "bad", reason: "SRS hash does not match" };
    return { kind: "ok", addr: `SRS0${opaque}@${first}` };
  }
  const m = /^SRS0[=+-]([^=]*)=([^=]*)=([^=]+)=(.+)$/i.exec(a.local);
  if (!m) return { kind: "bad", reason: "malformed SRS0 address" };
  const [, hash, tt, domain, local] = m;
  if (!good(hash!, tt! + domain! + local!)) return { kind: "bad", reason: "SRS hash does not match" };
  const age = stampAge(tt!, today);
  if (age === null) return { kind: "bad", reason: "SRS time stamp malformed" };
  if (age > SRS_MAX_AGE_DAYS) return { kind: "bad", reason: `SRS address expired (${age} days old)` };
  return { kind: "ok", addr: `${local}@${domain}` };
}
