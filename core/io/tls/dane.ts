import { createHash, X509Certificate } from "node:crypto";
import { certificateNames, dnsNamesOf } from "../../lib/tls/names.ts";
import { daneState, tlsaMatches, type ChainCert, type DaneState, type Tlsa } from "../../lib/tls/dane.ts";
import { lookup, type DnsOptions } from "../remote/dns.ts";

// DANE (RFC 7672) for one MX host: the TLSA lookup through qm's resolver
// (believed only when a server marked "validating" in control/resolvers set
// the AD bit), and the check of a presented certificate chain against the
// records.

/** The TLSA RRset at _PORT._tcp.HOST and what it means, given how secure the MX and address lookups were. */
export async function daneFor(dns: DnsOptions, host: string, port: number, secure: { readonly mx: boolean; readonly address: boolean }): Promise<DaneState> {
  if (!secure.mx || !secure.address) return daneState(secure, null);
  const answer = await lookup<Tlsa>(dns, `_${port}._tcp.${host}`, "TLSA");
  return daneState(secure, answer);
}

const digest = (alg: "sha256" | "sha512", bytes: Uint8Array) => createHash(alg).update(bytes).digest("hex");

/** Why a chain fails, in words and as an RFC 8460 result type; null when it passes. */
export interface DaneFailure {
  readonly reason: string;
  readonly type: "tlsa-invalid" | "certificate-host-mismatch" | "certificate-expired" | "validation-failure";
}

/**
 * The presented chain (DER, leaf first) against the usable records. A
 * DANE-EE(3) match on the leaf passes whatever its names and dates. A
 * DANE-TA(2) match on a certificate above the leaf passes when every
 * certificate below it is signed by the next, the signers are CAs, the
 * certificates below the anchor are within their dates, and the leaf names
 * `host` (RFC 7672 §3.2.3's reference identifier: the MX host name).
 */
export function checkDane(ders: readonly Uint8Array[], records: readonly Tlsa[], host: string, now: number): DaneFailure | null {
  let chain: X509Certificate[];
  try {
    chain = ders.slice(0, 10).map((d) => new X509Certificate(d));
  } catch {
    return { reason: "its certificate could not be read", type: "validation-failure" };
  }
  if (chain.length === 0) return { reason: "it sent no certificate", type: "validation-failure" };
  const certs: ChainCert[] = chain.map((c, i) => ({ cert: ders[i]!, spki: c.publicKey.export({ type: "spki", format: "der" }) }));
  const m = tlsaMatches(records, certs, digest);
  if (m.ee) return null;
  if (m.ta.length === 0) return { reason: "its certificate matches none of the TLSA records", type: "tlsa-invalid" };
  let last: DaneFailure | null = null;
  for (const top of m.ta) {
    last = chainUpTo(chain, top, host, now);
    if (last === null) return null;
  }
  return last;
}

function chainUpTo(chain: readonly X509Certificate[], top: number, host: string, now: number): DaneFailure | null {
  for (let i = 0; i < top; i++) {
    const c = chain[i]!;
    const issuer = chain[i + 1]!;
    if (!issuer.ca || !c.checkIssued(issuer) || !c.verify(issuer.publicKey)) {
      return { reason: "its certificate chain does not lead to the trust anchor of its TLSA record", type: "tlsa-invalid" };
    }
    if (Date.parse(c.validFrom) > now || Date.parse(c.validTo) < now) {
      return { reason: "its certificate is outside its validity dates", type: "certificate-expired" };
    }
  }
  const leaf = chain[0]!;
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(leaf.subject)?.[1];
  if (!certificateNames(host, dnsNamesOf(leaf.subjectAltName), cn)) {
    return { reason: `its certificate does not name ${host.replace(/[^\x21-\x7e]/g, "?")}`, type: "certificate-host-mismatch" };
  }
  return null;
}
