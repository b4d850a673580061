/**
 * RFC 822 address lists as qmail-inject reads them (docs/qmail.md §7.3, §10.4):
 * parse a field body into addresses and groups, rewrite each address with
 * defaulthost / plusdomain / defaultdomain, and write the list back.
 * Addresses are byte strings; the envelope form is `local@domain` unquoted.
 */
import { ok, perm, type Result } from "../base/result.ts";
import { formatTokens, tokenize, type Token } from "./token822.ts";

/** An address: `domain` null when the text had no `@`; local "" and domain null is the null address <>. */
export interface Addr {
  readonly local: string;
  readonly domain: string | null;
}
export type Item =
  | { readonly kind: "addr"; readonly phrase: readonly Token[] | null; readonly addr: Addr; readonly comments: readonly Token[] }
  | { readonly kind: "group"; readonly name: readonly Token[]; readonly members: readonly Item[] }
  | { readonly kind: "comment"; readonly comments: readonly Token[] };

import { quote, quote2 } from "../base/quote.ts";

export { quote, quote2 };

export interface RewriteHosts {
  readonly defaulthost: string;
  readonly defaultdomain: string;
  readonly plusdomain: string;
}

const DOMAIN_BAD = /[\s"(),:;<>@[\]\\]/;
const isWord = (t: Token): boolean => t.kind === "atom" || t.kind === "quoted" || t.kind === "literal";
const isSpecial = (t: Token | undefined, c: string): boolean => t?.kind === "special" && t.text === c;

/** The envelope form: `local@domain`, `local` alone, or "" for <>. */
export function addrText(a: Addr): string {
  return a.domain === null ? a.local : `${a.local}@${a.domain}`;
}
/** The header form: local part quoted as needed. */
export function formatAddr(a: Addr): string {
  if (a.domain === null) return a.local === "" ? "" : quote(a.local);
  return `${quote(a.local)}@${a.domain}`;
}

/** qmail-inject's rewriting, in its order (docs/qmail.md §7.3). <> and `x@[]` are left alone. */
export function rewriteAddr(a: Addr, hosts: RewriteHosts): Addr {
  if ((a.local === "" && a.domain === null) || a.domain === "[]") return a;
  let domain = a.domain ?? hosts.defaulthost;
  if (domain.endsWith("+")) domain = `${domain.slice(0, -1)}.${hosts.plusdomain}`;
  if (!domain.includes(".") && !domain.startsWith("[")) domain = `${domain}.${hosts.defaultdomain}`;
  return { local: a.local, domain };
}

/** Parses a field body into items; unbalanced brackets, quotes or comments are permanent errors. */
export function parseAddressList(body: string): Result<Item[]> {
  const toks = tokenize(body);
  if (toks.kind !== "ok") return toks;
  const items: Item[] = [];
  let group: { name: Token[]; members: Item[] } | null = null;
  let chunk: Token[] = [];
  let angle = false;
  const flush = (): Result<true> => {
    const r = chunkItems(chunk);
    if (r.kind !== "ok") return r;
    (group ? group.members : items).push(...r.value);
    chunk = [];
    return ok(true);
  };
  for (const t of toks.value) {
    if (t.kind === "special" && !angle) {
      if (t.text === "," || (t.text === ";" && group)) {
        const r = flush();
        if (r.kind !== "ok") return r;
        if (t.text === ";" && group) {
          items.push({ kind: "group", name: group.name, members: group.members });
          group = null;
        }
        continue;
      }
      if (t.text === ":" && !group) {
        group = { name: chunk, members: [] };
        chunk = [];
        continue;
      }
    }
    if (isSpecial(t, "<")) {
      if (angle) return perm("Nested < in address", "5.1.3");
      angle = true;
    } else if (isSpecial(t, ">")) {
      if (!angle) return perm("Unbalanced > in address", "5.1.3");
      angle = false;
    }
    chunk.push(t);
  }
  if (angle) return perm("Unterminated < in address", "5.1.3");
  const r = flush();
  if (r.kind !== "ok") return r;
  if (group) items.push({ kind: "group", name: group.name, members: group.members });
  return ok(items);
}

/** One comma-separated piece: `phrase <route>`, or addr-specs (words side by side start a new address). */
function chunkItems(chunk: readonly Token[]): Result<Item[]> {
  const open = chunk.findIndex((t) => isSpecial(t, "<"));
  if (open >= 0) {
    const close = chunk.findIndex((t) => isSpecial(t, ">"));
    const after = chunk.slice(close + 1);
    if (after.some((t) => t.kind !== "comment")) return perm("Text after > in address", "5.1.3");
    const addr = parseAddrSpec(stripRoute(chunk.slice(open + 1, close)));
    if (addr.kind !== "ok") return addr;
    return ok([{ kind: "addr", phrase: chunk.slice(0, open), addr: addr.value, comments: after }]);
  }
  const items: Item[] = [];
  let words: Token[] = [];
  let comments: Token[] = [];
  const push = (): Result<true> => {
    if (words.length === 0) {
      if (comments.length > 0) items.push({ kind: "comment", comments });
    } else {
      const addr = parseAddrSpec(words);
      if (addr.kind !== "ok") return addr;
      items.push({ kind: "addr", phrase: null, addr: addr.value, comments });
    }
    words = [];
    comments = [];
    return ok(true);
  };
  for (const t of chunk) {
    if (t.kind === "comment") comments.push(t);
    else {
      const last = words[words.length - 1];
      if (last && isWord(last) && isWord(t)) {
        const r = push(); // qmail: illegal spaces between addresses become commas
        if (r.kind !== "ok") return r;
      }
      words.push(t);
    }
  }
  const r = push();
  return r.kind === "ok" ? ok(items) : r;
}

/** `@a,@b:user@host` -> `user@host`; a route with nothing after it is <>. */
function stripRoute(route: Token[]): Token[] {
  if (!isSpecial(route[0], "@")) return route;
  const colon = route.findIndex((t) => isSpecial(t, ":"));
  return colon < 0 ? route : route.slice(colon + 1);
}

/** Words, dots and `@` into local and domain; drops one trailing `.`, then one trailing `@`. */
function parseAddrSpec(input: readonly Token[]): Result<Addr> {
  let toks = input.filter((t) => t.kind !== "comment");
  const bad = toks.find((t) => t.kind === "special" && t.text !== "." && t.text !== "@");
  if (bad) return perm(`Unexpected ${bad.text} in address`, "5.1.3");
  const emptyLiteral = toks.length >= 2 && toks[toks.length - 1]!.text === "[]" && isSpecial(toks[toks.length - 2], "@");
  if (!emptyLiteral) {
    if (isSpecial(toks[toks.length - 1], ".")) toks = toks.slice(0, -1);
    if (isSpecial(toks[toks.length - 1], "@")) toks = toks.slice(0, -1);
  }
  let at = -1;
  for (let i = toks.length - 1; i >= 0; i--) if (isSpecial(toks[i], "@")) { at = i; break; }
  const text = (ts: readonly Token[]): string => ts.map((t) => t.text).join("");
  const domainToks = at < 0 ? [] : toks.slice(at + 1);
  // the domain is written back as it is (no quoting): an escaped special or a quoted string in it would not parse again
  if (domainToks.some((t) => t.kind !== "literal" && t.kind !== "special" && DOMAIN_BAD.test(t.text))) return perm("Invalid character in domain", "5.1.3");
  const addr = at < 0 ? { local: text(toks), domain: null } : { local: text(toks.slice(0, at)), domain: text(domainToks) };
  if (/[\x00-\x1f\x7f]/.test(addr.local + (addr.domain ?? ""))) return perm("Control character in address", "5.1.3");
  return ok(addr);
}

/** Applies `f` to every address, groups included. */
export function mapAddrs(items: readonly Item[], f: (a: Addr) => Addr): Item[] {
  return items.map((it) => (it.kind === "addr" ? { ...it, addr: f(it.addr) } : it.kind === "group" ? { ...it, members: mapAddrs(it.members, f) } : it));
}
/** Every address in order, groups included. */
export function listAddrs(items: readonly Item[]): Addr[] {
  return items.flatMap((it) => (it.kind === "addr" ? [it.addr] : it.kind === "group" ? listAddrs(it.members) : []));
}

/** Each item as header text: `phrase <addr> (comment)`, `addr (comment)`, `name: a, b;`. */
export function formatItem(it: Item): string {
  const tail = (cs: readonly Token[]): string => (cs.length ? ` ${formatTokens(cs.map((c) => ({ ...c, space: true })))}` : "");
  if (it.kind === "comment") return formatTokens(it.comments);
  if (it.kind === "group") return `${formatTokens(it.name)}: ${it.members.map(formatItem).join(", ")};`;
  const addr = formatAddr(it.addr);
  if (it.phrase === null) return `${addr === "" ? "<>" : addr}${tail(it.comments)}`;
  const phrase = formatTokens(it.phrase);
  return `${phrase === "" ? "" : `${phrase} `}<${addr}>${tail(it.comments)}`;
}
