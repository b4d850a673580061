/**
 * DANE for SMTP (RFC 7672): which TLSA records count, what DANE says for
 * one MX host given how secure its DNS answers were, and which records a
 * presented certificate chain matches. Pure: the lookups, the hashes and
 * the signature checks are in core/io/tls/dane.ts.
 */

/** A TLSA record (RFC 6698 §2.1), its association data as lowercase hex. */
export interface Tlsa {
  readonly usage: number;
  readonly selector: number;
  readonly matchingType: number;
  readonly data: string;
}

/** RFC 7218's names for the two usages RFC 7672 §3.1 lets SMTP use. */
export const DANE_TA = 2;
export const DANE_EE = 3;
/** Digest lengths in hex digits: SHA2-256(1), SHA2-512(2); Full(0) is any length. */
const DIGEST_HEX = new Map<number, number>([[1, 64], [2, 128]]);
/** More TLSA records than this for one host are not looked at (a real RRset has a handful). */
export const TLSA_MAX = 32;

/**
 * The usable records (RFC 7672 §3.1.3): DANE-TA(2) and DANE-EE(3) with
 * selector Cert(0) or SPKI(1) and matching type Full(0), SHA2-256(1) or
 * SHA2-512(2) of the right length. PKIX-TA(0) and PKIX-EE(1) are unusable
 * for SMTP, as is anything else.
 */
export function usableTlsa(records: readonly Tlsa[]): Tlsa[] {
  return records.slice(0, TLSA_MAX).filter((r) => {
    if (r.usage !== DANE_TA && r.usage !== DANE_EE) return false;
    if (r.selector !== 0 && r.selector !== 1) return false;
    if (!/^(?:[0-9a-f]{2})+$/.test(r.data)) return false;
    const len = DIGEST_HEX.get(r.matchingType);
    return r.matchingType === 0 ? r.data.length > 0 : len === r.data.length;
  });
}

/** The record in presentation form ("3 1 1 ab12..."), for texts and TLS-RPT's policy-string. */
export function formatTlsa(r: Tlsa): string {
  return `${r.usage} ${r.selector} ${r.matchingType} ${r.data}`;
}

/** A TLSA lookup's answer, as core/io/remote/dns.ts gives it. */
export type TlsaAnswer =
  | { readonly kind: "ok"; readonly records: readonly Tlsa[]; readonly secure?: boolean }
  | { readonly kind: "nxdomain"; readonly secure?: boolean }
  | { readonly kind: "temp"; readonly reason: string };

/**
 * What DANE says for one host:
 *   dane     usable records: TLS with a certificate that matches one, or no delivery
 *   encrypt  records, none usable: TLS without authentication, never plain text (RFC 7672 §2.2)
 *   none     DANE does not apply (an insecure answer, no records): the other policy holds
 *   fail     the TLSA lookup failed under a secure MX and address: this host cannot be used now
 */
export type DaneState =
  | { readonly kind: "dane"; readonly records: readonly Tlsa[]; readonly all: readonly Tlsa[] }
  | { readonly kind: "encrypt"; readonly all: readonly Tlsa[] }
  | { readonly kind: "none"; readonly why: string }
  | { readonly kind: "fail"; readonly why: string };

/**
 * RFC 7672 §2.2: DANE applies to a host only when the MX RRset (or, with
 * no MX, the domain's own address records) and the host's address records
 * were secure; only then is its TLSA RRset looked up, and only a secure
 * answer counts. `tlsa` is null when the lookup was not made.
 */
export function daneState(secure: { readonly mx: boolean; readonly address: boolean }, tlsa: TlsaAnswer | null): DaneState {
  if (!secure.mx) return { kind: "none", why: "the MX lookup was not DNSSEC-validated" };
  if (!secure.address) return { kind: "none", why: "the MX host's address lookup was not DNSSEC-validated" };
  if (tlsa === null) return { kind: "none", why: "no TLSA lookup" };
  if (tlsa.kind === "temp") return { kind: "fail", why: `the TLSA lookup failed (${tlsa.reason})` };
  if (tlsa.kind === "nxdomain" || tlsa.records.length === 0) return { kind: "none", why: "no TLSA records" };
  if (tlsa.secure !== true) return { kind: "none", why: "the TLSA records are not DNSSEC-validated" };
  const all = tlsa.records.slice(0, TLSA_MAX);
  const usable = usableTlsa(all);
  return usable.length > 0 ? { kind: "dane", records: usable, all } : { kind: "encrypt", all };
}

/** One certificate of the presented chain: its DER and its SubjectPublicKeyInfo's DER. */
export interface ChainCert {
  readonly cert: Uint8Array;
  readonly spki: Uint8Array;
}

/** Hex digest of bytes: "sha256" for matching type 1, "sha512" for 2. */
export type Digest = (alg: "sha256" | "sha512", bytes: Uint8Array) => string;

function hexOf(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

function matches(r: Tlsa, c: ChainCert, digest: Digest): boolean {
  const bytes = r.selector === 0 ? c.cert : c.spki;
  if (r.matchingType === 0) return hexOf(bytes) === r.data;
  return digest(r.matchingType === 1 ? "sha256" : "sha512", bytes) === r.data;
}

/**
 * Which records the chain (leaf first) matches: `ee` when a DANE-EE record
 * matches the leaf (RFC 7672 §3.1.1: then names and dates do not matter),
 * and the positions above the leaf that a DANE-TA record matches (§3.1.2:
 * the server must send its trust anchor; the caller checks the signatures
 * up to it, the dates and the name).
 */
export function tlsaMatches(records: readonly Tlsa[], chain: readonly ChainCert[], digest: Digest): { ee: boolean; ta: number[] } {
  const leaf = chain[0];
  const ee = leaf !== undefined && records.some((r) => r.usage === DANE_EE && matches(r, leaf, digest));
  const ta: number[] = [];
  for (let i = 1; i < chain.length; i++) if (records.some((r) => r.usage === DANE_TA && matches(r, chain[i]!, digest))) ta.push(i);
  return { ee, ta };
}
