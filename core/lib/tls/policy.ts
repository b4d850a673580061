/**
 * control/tlspolicy: how much TLS each destination gets. Lines
 * "DOMAIN:LEVEL"; DOMAIN as in control/smtproutes ("example.com" itself,
 * ".example.com" every name under it, "" every other domain); "#" starts a
 * comment line. Levels, weakest first:
 *   none     no STARTTLS
 *   may      STARTTLS when offered; a failed handshake is retried in plain text
 *   encrypt  STARTTLS or no delivery; the certificate is not checked
 *   verify   STARTTLS, a certificate that chains to a trusted CA (the
 *            system's and control/tlsca) and names the MX host
 *   dane     DANE (RFC 7672) for each MX host with DNSSEC-validated TLSA
 *            records (a resolver marked "validating" in control/resolvers),
 *            else may; the default
 *   sts      as dane, and MTA-STS (RFC 8461) for the hosts DANE does not
 *            cover, where the domain publishes a policy
 * control/tlsrequired keeps its meaning: its domains get "encrypt" unless
 * a line of control/tlspolicy names them.
 */

/** control/tlsrequired's entries: the name itself, or ".suffix" for every name under it. */
function domainListed(list: readonly string[], d: string): boolean {
  return list.some((e) => {
    const l = e.toLowerCase();
    return l === d || (l.startsWith(".") && d.endsWith(l));
  });
}

export type TlsLevel = "none" | "may" | "encrypt" | "verify" | "dane" | "sts";
export const LEVELS: readonly TlsLevel[] = ["none", "may", "encrypt", "verify", "dane", "sts"];
/** With no line for a domain: DANE where it is validated, else opportunistic TLS (Postfix's "dane"). */
export const DEFAULT_LEVEL: TlsLevel = "dane";

export interface TlsPolicyTable {
  /** Exact names and ".suffix" entries, lowercased; the later line wins. */
  readonly rules: ReadonlyMap<string, TlsLevel>;
  readonly fallback: TlsLevel | null;
}

export const TLSPOLICY_LINES_MAX = 10000;

/** The file's text; a string names the first bad line. */
export function parseTlsPolicy(text: string): TlsPolicyTable | string {
  const rules = new Map<string, TlsLevel>();
  let fallback: TlsLevel | null = null;
  const lines = text.split("\n");
  if (lines.length > TLSPOLICY_LINES_MAX) return `more than ${TLSPOLICY_LINES_MAX} lines`;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, "").trim();
    if (line === "" || line.startsWith("#")) continue;
    const colon = line.lastIndexOf(":");
    if (colon < 0) return `line ${i + 1}: no ":" between the domain and the level`;
    const domain = line.slice(0, colon).trim().toLowerCase().replace(/\.$/, "");
    const level = line.slice(colon + 1).trim().toLowerCase();
    if (!(LEVELS as readonly string[]).includes(level)) return `line ${i + 1}: unknown level "${level.slice(0, 40).replace(/[^\x21-\x7e]/g, "?")}"`;
    if (!/^\.?[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(domain) && domain !== "") return `line ${i + 1}: bad domain`;
    if (domain === "") fallback = level as TlsLevel;
    else rules.set(domain, level as TlsLevel);
  }
  return { rules, fallback };
}

/**
 * The level for a recipient domain: the most specific line of
 * control/tlspolicy (the name itself, then ".parent" entries from the
 * nearest up), then control/tlsrequired (encrypt), then the default line,
 * then DEFAULT_LEVEL.
 */
export function levelFor(table: TlsPolicyTable | null, tlsRequired: readonly string[], domain: string): { level: TlsLevel; from: "tlspolicy" | "tlsrequired" } {
  const d = domain.toLowerCase().replace(/\.$/, "");
  if (table) {
    const exact = table.rules.get(d);
    if (exact) return { level: exact, from: "tlspolicy" };
    for (let i = d.indexOf("."); i >= 0; i = d.indexOf(".", i + 1)) {
      const hit = table.rules.get(d.slice(i));
      if (hit) return { level: hit, from: "tlspolicy" };
    }
  }
  if (domainListed(tlsRequired, d)) return { level: "encrypt", from: "tlsrequired" };
  return { level: table?.fallback ?? DEFAULT_LEVEL, from: "tlspolicy" };
}

/** A level at least as strict as "encrypt" (a relay that gets a password). */
export function atLeastEncrypt(level: TlsLevel): TlsLevel {
  return level === "verify" ? "verify" : "encrypt";
}
