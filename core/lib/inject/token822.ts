/**
 * RFC 822 lexical tokens of a header field body (qmail's token822, rewritten):
 * atoms, quoted strings, domain literals, comments and the one-char specials.
 * Input and output are byte strings (bytes.ts); whitespace (space, tab, CR,
 * LF) separates tokens and is remembered only as `space` on the next token.
 * One pass, no recursion: linear in the input, whatever its shape.
 */
import { ok, perm, type Result } from "../base/result.ts";

export type TokenKind = "atom" | "quoted" | "literal" | "comment" | "special";
export interface Token {
  readonly kind: TokenKind;
  /** atom: its text; quoted: the unescaped content; literal and comment: the raw text with delimiters; special: the char */
  readonly text: string;
  /** whitespace came before this token */
  readonly space: boolean;
}

const SPECIALS = new Set(["<", ">", "@", ",", ";", ":", "."]);
const isSpace = (c: string): boolean => c === " " || c === "\t" || c === "\r" || c === "\n";
const ENDS_ATOM = new Set([...SPECIALS, "(", ")", "[", "]", '"', " ", "\t", "\r", "\n"]);

/** Splits a field body into tokens; an unterminated quoted string, comment or literal is a permanent error. */
export function tokenize(s: string): Result<Token[]> {
  const out: Token[] = [];
  let space = false;
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (isSpace(c)) {
      space = true;
      i++;
      continue;
    }
    let end: number;
    if (c === '"') end = scanQuoted(s, i);
    else if (c === "(") end = scanComment(s, i);
    else if (c === "[") end = scanLiteral(s, i);
    else if (SPECIALS.has(c)) end = i + 1;
    else if (c === ")" || c === "]") return perm(`Unbalanced ${c} in address`, "5.1.3");
    else end = scanAtom(s, i);
    if (end < 0) return perm(`Unterminated ${c === '"' ? "quoted string" : c === "(" ? "comment" : "domain literal"} in address`, "5.1.3");
    out.push(makeToken(s, i, end, space));
    space = false;
    i = end;
  }
  return ok(out);
}

function makeToken(s: string, start: number, end: number, space: boolean): Token {
  const c = s[start]!;
  if (c === '"') return { kind: "quoted", text: unescape(s.slice(start + 1, end - 1)), space };
  if (c === "(") return { kind: "comment", text: s.slice(start, end), space };
  if (c === "[") return { kind: "literal", text: s.slice(start, end), space };
  if (SPECIALS.has(c)) return { kind: "special", text: c, space };
  return { kind: "atom", text: unescape(s.slice(start, end)), space };
}

function scanAtom(s: string, i: number): number {
  while (i < s.length && !ENDS_ATOM.has(s[i]!)) i += s[i] === "\\" && i + 1 < s.length ? 2 : 1;
  return i;
}
function scanQuoted(s: string, i: number): number {
  for (i++; i < s.length; i++) {
    if (s[i] === "\\") i++;
    else if (s[i] === '"') return i + 1;
  }
  return -1;
}
function scanLiteral(s: string, i: number): number {
  for (i++; i < s.length; i++) {
    if (s[i] === "\\") i++;
    else if (s[i] === "[") return -1;
    else if (s[i] === "]") return i + 1;
  }
  return -1;
}
function scanComment(s: string, i: number): number {
  let depth = 0;
  for (; i < s.length; i++) {
    if (s[i] === "\\") i++;
    else if (s[i] === "(") depth++;
    else if (s[i] === ")" && --depth === 0) return i + 1;
  }
  return -1;
}

/** `\x` becomes `x`; folding (LF followed by blanks) inside a quoted string disappears. */
function unescape(s: string): string {
  if (!s.includes("\\") && !s.includes("\n")) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "\\" && i + 1 < s.length) out += s[++i];
    else if (s[i] === "\r" && s[i + 1] === "\n") continue;
    else if (s[i] !== "\n") out += s[i];
  }
  return out;
}

/** A quoted string's text as it is written: `"` + content with `"`, `\`, CR and LF escaped + `"`. */
export function quoteString(s: string): string {
  return `"${s.replace(/["\\\r\n]/g, (c) => `\\${c}`)}"`;
}

/** Tokens back to text, one space where the input had whitespace. */
export function formatTokens(tokens: readonly Token[]): string {
  let out = "";
  for (const t of tokens) {
    if (t.space && out !== "") out += " ";
    out += t.kind === "quoted" ? quoteString(t.text) : t.kind === "atom" ? atomText(t.text) : t.text;
  }
  return out;
}

/** An atom that held escapes is written back quoted, so it parses the same again. */
function atomText(s: string): string {
  for (let i = 0; i < s.length; i++) if (ENDS_ATOM.has(s[i]!) || s[i] === "\\") return quoteString(s);
  return s;
}
