import { ok, temp, type Result } from "../base/result.ts";

// control/dkimsign (qm-dkim(8)): one `domain:selector:keyfile` a line. Mail
// whose From domain is a listed domain, or a subdomain of one, leaves signed
// with every selector listed for the closest such domain (RSA and Ed25519
// side by side, RFC 8463). A line that does not parse stops all remote
// delivery (temporary): which mail must be signed is then unknown, and an
// unsigned send is never the fallback.

export interface SignEntry {
  readonly domain: string;
  readonly selector: string;
  /** As written: relative paths are relative to control/. */
  readonly keyfile: string;
}

/** Selectors for one domain; more is a mistake, not dual signing. */
export const MAX_SELECTORS = 8;
/** Lines in control/dkimsign. */
export const MAX_ENTRIES = 10_000;

const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
const DOMAIN = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*$`);
const SELECTOR = new RegExp(`^(?=.{1,63}$)${LABEL}(?:\\.${LABEL})*$`);

/** A DNS name as DKIM's d= takes it (RFC 6376 §3.5): LDH labels, lowercased, no final dot. */
export function isDomainName(name: string): boolean {
  return DOMAIN.test(name);
}

/** A selector (RFC 6376 §3.1): one or more LDH labels. */
export function isSelector(name: string): boolean {
  return SELECTOR.test(name);
}

/** The lines of control/dkimsign (comments and blank lines already gone) to entries. */
export function parseDkimSign(lines: readonly string[]): Result<SignEntry[]> {
  if (lines.length > MAX_ENTRIES) return temp(`Unable to parse control/dkimsign: more than ${MAX_ENTRIES} lines`);
  const out: SignEntry[] = [];
  const perDomain = new Map<string, number>();
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    const first = line.indexOf(":");
    const second = first < 0 ? -1 : line.indexOf(":", first + 1);
    const domain = line.slice(0, first).trim().toLowerCase().replace(/\.$/, "");
    const selector = line.slice(first + 1, second).trim().toLowerCase();
    const keyfile = line.slice(second + 1).trim();
    const bad = (why: string): Result<never> => temp(`Unable to parse control/dkimsign: line ${i + 1}: ${why}`);
    if (second < 0) return bad("not domain:selector:keyfile");
    if (!isDomainName(domain)) return bad("bad domain");
    if (!isSelector(selector)) return bad("bad selector");
    if (keyfile === "" || /[\0\n\r]/.test(keyfile)) return bad("bad key file name");
    const n = (perDomain.get(domain) ?? 0) + 1;
    if (n > MAX_SELECTORS) return bad(`more than ${MAX_SELECTORS} selectors for ${domain}`);
    if (out.some((e) => e.domain === domain && e.selector === selector)) return bad(`selector ${selector} listed twice for ${domain}`);
    perDomain.set(domain, n);
    out.push({ domain, selector, keyfile });
  }
  return ok(out);
}

/** control/arcseal: one `domain:selector:keyfile` line, the key that seals (qm-dkim(8), "ARC"). */
export function parseArcSeal(lines: readonly string[]): Result<SignEntry> {
  if (lines.length !== 1) return temp(`Unable to parse control/arcseal: ${lines.length} lines, not one`);
  const e = parseDkimSign(lines);
  if (e.kind !== "ok") return temp(e.reason.replace("control/dkimsign", "control/arcseal"));
  return ok(e.value[0]!);
}

/**
 * The entries that sign mail from `fromDomain`: those of the listed domain
 * closest to it (itself, else its parent, grandparent, ...); none when no
 * listed domain covers it.
 */
export function signersFor(entries: readonly SignEntry[], fromDomain: string): SignEntry[] {
  let name = fromDomain.toLowerCase().replace(/\.$/, "");
  for (;;) {
    const found = entries.filter((e) => e.domain === name);
    if (found.length > 0) return found;
    const dot = name.indexOf(".");
    if (dot < 0) return [];
    name = name.slice(dot + 1);
  }
}
