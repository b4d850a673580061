import { parseIPv4, parseIPv6 } from "../base/ip-addr.ts";

/**
 * MAIL FROM / RCPT TO arguments (RFC 5321 §4.1.2, read the qmail way,
 * docs/qmail.md §6.3): the path between "<" and an unquoted ">", a source route
 * dropped, quotes and backslashes removed; then ESMTP parameters. Strings
 * are byte strings (bytes.ts). Failures carry the whole reply line.
 */
export interface PathArg {
  readonly addr: string;
  readonly params: ReadonlyMap<string, string | null>;
}
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reply: string };

/** qmail-smtpd: an address (with its NUL) over 900 bytes is refused. */
export const MAX_ADDRESS = 899;
const MAX_PARAMS = 16;

function bad(reply: string): Parsed<never> {
  return { ok: false, reply };
}

export function parsePathArg(arg: string, keyword: "FROM" | "TO"): Parsed<PathArg> {
  const key = new RegExp(`^${keyword}:[ \\t]*`, "i").exec(arg);
  if (!key) return bad(`555 5.5.4 syntax error: expected ${keyword}:<address>`);
  const rest = arg.slice(key[0].length);
  const path = rest.startsWith("<") ? bracketed(rest) : bare(rest);
  if (!path.ok) return path;
  const addr = unquote(path.value.inner);
  if (!addr.ok) return addr;
  if (addr.value.length > MAX_ADDRESS) return bad(`555 5.1.3 address too long (limit ${MAX_ADDRESS} bytes)`);
  if (/[\x00-\x1f\x7f]/.test(addr.value)) return bad("553 5.1.3 control character in address");
  const syntax = mailboxSyntax(withoutRoute(path.value.inner), keyword);
  if (syntax) return bad(syntax);
  const params = parseParams(path.value.after);
  if (!params.ok) return params;
  return { ok: true, value: { addr: addr.value, params: params.value } };
}

function bracketed(s: string): Parsed<{ inner: string; after: string }> {
  let quoted = false;
  for (let i = 1; i < s.length; i++) {
    const c = s[i];
    if (c === "\\") i++;
    else if (c === '"') quoted = !quoted;
    else if (c === ">" && !quoted) return { ok: true, value: { inner: s.slice(1, i), after: s.slice(i + 1) } };
  }
  return bad("555 5.5.4 syntax error: no closing > in address");
}

/** RFC-violating clients ("MAIL FROM:user@host"): up to the first space. */
function bare(s: string): Parsed<{ inner: string; after: string }> {
  const sp = s.search(/[ \t]/);
  const inner = sp < 0 ? s : s.slice(0, sp);
  if (inner === "" || /[<>]/.test(inner)) return bad("555 5.5.4 syntax error: address must be written as <user@domain>");
  return { ok: true, value: { inner, after: sp < 0 ? "" : s.slice(sp) } };
}

function unquote(s: string): Parsed<string> {
  let text = s;
  if (text.startsWith("@")) {
    const colon = text.indexOf(":");
    if (colon < 0) return bad("555 5.5.4 syntax error: source route without a colon");
    text = text.slice(colon + 1); // @a,@b:user@c -> user@c (RFC 5321 §C: ignore the route)
  }
  let out = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\\") {
      if (i + 1 >= text.length) return bad("555 5.5.4 syntax error: backslash at the end of the address");
      out += text[++i];
    } else if (c === '"') quoted = !quoted;
    else out += c;
  }
  if (quoted) return bad("555 5.5.4 syntax error: unterminated quote in address");
  return { ok: true, value: out };
}

const ATEXT = "A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~\\x80-\\xff"; // RFC 5322 atext, and UTF-8 bytes (RFC 6531)
// A dot-string, but with ".." and a dot before the @ allowed: old mobile carriers' addresses have them, and
// Postfix takes them; a leading dot (`<.!>`) is refused.
const DOT_STRING = new RegExp(`^[${ATEXT}][.${ATEXT}]*$`);
const QUOTED_STRING = /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\x20-\x7e])*"$/;

function withoutRoute(inner: string): string {
  return inner.startsWith("@") ? inner.slice(inner.indexOf(":") + 1) : inner;
}

/**
 * RFC 5321 §4.1.2's Mailbox, as written on the wire: a local part that is a
 * dot-string or a quoted string, and a domain with no quote or backslash.
 * qmail took anything between the brackets (`<;sleep 66;>`, `< >`,
 * `x@"example.test"`); the reply for the first fault, or null. The empty
 * path `<>` passes here (MAIL takes it, RCPT refuses it later).
 */
export function mailboxSyntax(raw: string, keyword: "FROM" | "TO"): string | null {
  if (raw === "") return null;
  const head = keyword === "FROM" ? "501 5.1.7 bad sender address syntax" : "501 5.1.3 bad recipient address syntax";
  let quoted = false;
  let at = -1;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === "\\") i++;
    else if (c === '"') quoted = !quoted;
    else if (c === "@" && !quoted) at = i;
  }
  const local = at < 0 ? raw : raw.slice(0, at);
  const domain = at < 0 ? null : raw.slice(at + 1);
  if (domain !== null && /["\\]/.test(domain)) return `${head}: a quote or backslash in the domain`;
  if (local === "") return `${head}: empty local part`;
  if (!DOT_STRING.test(local) && !QUOTED_STRING.test(local)) return `${head}: the local part is neither a dot-string nor a quoted string`;
  return null;
}

function parseParams(s: string): Parsed<Map<string, string | null>> {
  const params = new Map<string, string | null>();
  const words = s.split(/[ \t]+/).filter((w) => w !== "");
  if (words.length > MAX_PARAMS) return bad("555 5.5.4 too many parameters");
  for (const w of words) {
    const m = /^([A-Za-z0-9][A-Za-z0-9-]{0,31})(?:=([\x21-\x3c\x3e-\x7e]{0,500}))?$/.exec(w);
    if (!m) return bad(`555 5.5.4 malformed parameter ${printable(w)}`);
    const key = (m[1] ?? "").toUpperCase();
    if (params.has(key)) return bad(`501 5.5.4 duplicate parameter ${printable(key)}`);
    params.set(key, m[2] ?? null);
  }
  return { ok: true, value: params };
}

/**
 * qmail's double-bounce sender (qmail-send's "#@[]"): a null client's
 * postmaster notices carry it to the hub, which must take it as a sender.
 */
export function isDoubleBounceSender(addr: string): boolean {
  return addr === "#@[]";
}

/** "local@domain" split at the last "@"; domain null when there is none. */
export function splitAddress(addr: string): { local: string; domain: string | null } {
  const at = addr.lastIndexOf("@");
  return at < 0 ? { local: addr, domain: null } : { local: addr.slice(0, at), domain: addr.slice(at + 1) };
}

/** Why a domain is malformed (null when it is fine): host name, or [IPv4] / [IPv6:...] literal. */
export function domainProblem(domain: string, utf8: boolean): string | null {
  if (domain === "") return "empty domain";
  if (domain.startsWith("[")) return literalIP(domain) ? null : "malformed address literal";
  if (domain.length > 255) return "domain too long";
  if (!utf8 && /[\x80-\xff]/.test(domain)) return "non-ASCII domain without SMTPUTF8";
  for (const label of domain.split(".")) {
    if (label === "") return domain.endsWith(".") ? "trailing dot in domain" : "empty label in domain";
    if (label.length > 63) return "label longer than 63 bytes in domain";
    if (!/^[A-Za-z0-9_\x80-\xff](?:[A-Za-z0-9_\x80-\xff-]*[A-Za-z0-9_\x80-\xff])?$/.test(label)) return "bad character in domain";
  }
  return null;
}

/** The bytes of "[1.2.3.4]" or "[IPv6:...]", or null. */
export function literalIP(domain: string): Uint8Array | null {
  if (!domain.startsWith("[") || !domain.endsWith("]")) return null;
  const inner = domain.slice(1, -1);
  if (/^ipv6:/i.test(inner)) return parseIPv6(inner.slice(5));
  return parseIPv4(inner);
}

/** A local part that asks the next hop to route on (percent hack, bang path, "@" inside quotes). */
export function routingTrick(local: string): string | null {
  if (local.includes("@")) return "@ in the local part";
  if (local.includes("%")) return "% in the local part";
  if (local.includes("!")) return "! in the local part";
  return null;
}

/** For reply text: anything outside printable ASCII becomes "?", and at most 100 bytes. */
export function printable(s: string): string {
  const cut = s.length > 100 ? `${s.slice(0, 100)}...` : s;
  return cut.replace(/[^\x21-\x7e]/g, "?");
}
