/**
 * Does a certificate name the host we meant to reach? RFC 6125 §6.4 as
 * RFC 7672 §3.2.3 and RFC 8461 §4.2 apply it to SMTP: DNS names compared
 * without case and without a final dot; a "*" only as the whole leftmost
 * label, standing for exactly one label, never in front of a public-looking
 * two-label name ("*.com", "*.co"), never for an A-label ("xn--"); the
 * subject CN only when the certificate has no DNS name at all.
 */

/** Node's `subjectaltname` text ("DNS:a, DNS:b, IP Address:1.2.3.4"; a value with a comma or quote is JSON-quoted). */
export function dnsNamesOf(subjectAltName: string | undefined): string[] {
  const out: string[] = [];
  if (!subjectAltName) return out;
  let i = 0;
  const s = subjectAltName;
  while (i < s.length && out.length < 1000) {
    const colon = s.indexOf(":", i);
    if (colon < 0) break;
    const kind = s.slice(i, colon);
    let value: string;
    let next: number;
    if (s[colon + 1] === '"') {
      // a JSON string: find its closing quote, skipping escapes
      let j = colon + 2;
      while (j < s.length && s[j] !== '"') j += s[j] === "\\" ? 2 : 1;
      try {
        value = JSON.parse(s.slice(colon + 1, j + 1)) as string;
      } catch {
        return out; // malformed: stop, and trust nothing further
      }
      next = j + 1;
    } else {
      const comma = s.indexOf(",", colon);
      next = comma < 0 ? s.length : comma;
      value = s.slice(colon + 1, next);
    }
    if (kind === "DNS") out.push(value);
    i = next;
    while (s[i] === "," || s[i] === " ") i++;
  }
  return out;
}

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

function norm(name: string): string | null {
  const n = name.toLowerCase().replace(/\.$/, "");
  if (n.length === 0 || n.length > 253) return null;
  return n;
}

/** One presented name against the reference host name. */
export function nameMatches(presented: string, host: string): boolean {
  const p = norm(presented);
  const h = norm(host);
  if (p === null || h === null) return false;
  const hl = h.split(".");
  if (!hl.every((l) => LABEL.test(l))) return false;
  const pl = p.split(".");
  if (pl[0] === "*") {
    const rest = pl.slice(1);
    if (rest.length < 2 || !rest.every((l) => LABEL.test(l))) return false;
    if (hl.length !== pl.length || hl[0]!.startsWith("xn--")) return false;
    return hl.slice(1).join(".") === rest.join(".");
  }
  if (!pl.every((l) => LABEL.test(l))) return false; // a "*" anywhere else, or junk: no match
  return p === h;
}

/** The certificate's names (DNS SANs, else the CN) against the host. */
export function certificateNames(host: string, dnsNames: readonly string[], commonName: string | undefined): boolean {
  const names = dnsNames.length > 0 ? dnsNames : commonName ? [commonName] : [];
  return names.some((n) => nameMatches(n, host));
}
