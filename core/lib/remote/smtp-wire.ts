/**
 * SMTP on the wire, both directions (RFC 5321 §4): reply parsing, line
 * splitting, address quoting (qmail's quote2) and dot-stuffing. Pure: bytes
 * are Uint8Array, text is a byte string (core/lib/base/bytes.ts).
 */

/** A client's tolerance for one reply line (peers exceed 512; never unbounded). */
const REPLY_LINE_MAX = 4096;
/** Lines in one multiline reply before the peer is treated as broken. */
export const REPLY_LINES_MAX = 200;

export interface Reply {
  readonly code: number;
  /** Every line as received, CR/LF removed, code and separator included. */
  readonly lines: readonly string[];
}

/** "250-x" → {code 250, last false}; "250 x" or "250" → last true; anything else → null. */
export function parseReplyLine(line: string): { code: number; last: boolean } | null {
  const m = /^([2-5]\d\d)([ -]|$)/.exec(line);
  if (!m) return null;
  return { code: Number(m[1]), last: m[2] !== "-" };
}

/**
 * A whole reply from its lines. The code of the first line is the reply's
 * code (as qmail-remote); every line must carry a code; only the last may
 * lack the "-".
 */
export function parseReply(lines: readonly string[]): Reply | null {
  if (lines.length === 0 || lines.length > REPLY_LINES_MAX) return null;
  const parsed = lines.map(parseReplyLine);
  const first = parsed[0];
  if (!first) return null;
  for (let i = 0; i < parsed.length; i++) {
    const p = parsed[i];
    if (!p || p.last !== (i === parsed.length - 1)) return null;
  }
  return { code: first.code, lines: [...lines] };
}

export type ReplyClass = "ok" | "temp" | "perm";
/** qmail-remote: ≥500 permanent, ≥400 temporary, else success. */
export function replyClass(code: number): ReplyClass {
  return code >= 500 ? "perm" : code >= 400 ? "temp" : "ok";
}

/**
 * EHLO keywords (upper case) → their parameters, from a 250 reply; the first
 * line is the greeting. AUTH gathers the mechanisms of every AUTH line,
 * including the pre-RFC "AUTH=LOGIN PLAIN" form older servers still send.
 */
export function ehloKeywords(reply: Reply): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of reply.lines.slice(1)) {
    const body = line.slice(4).trim();
    const old = /^AUTH=/i.test(body);
    const sp = old ? 4 : body.search(/[ \t]/);
    const key = (sp < 0 ? body : body.slice(0, sp)).toUpperCase();
    if (!/^[A-Z0-9][A-Z0-9-]*$/.test(key)) continue;
    const params = sp < 0 ? "" : body.slice(sp + 1).trim();
    out.set(key, key === "AUTH" && out.has("AUTH") ? `${out.get("AUTH")} ${params}`.trim() : params);
  }
  return out;
}

/**
 * Splits `pending` at LF; a CR before the LF is dropped. Returns whole lines
 * and what is left over. `tooLong` is set when the rest alone exceeds `max`.
 */
export function takeLines(pending: string, max = REPLY_LINE_MAX): { lines: string[]; rest: string; tooLong: boolean } {
  const lines: string[] = [];
  let start = 0;
  for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n", start)) {
    const end = nl > start && pending.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    lines.push(pending.slice(start, end));
    start = nl + 1;
  }
  const rest = pending.slice(start);
  return { lines, rest, tooLong: rest.length > max || lines.some((l) => l.length > max) };
}

// qmail's quote() and quote2() under the names the SMTP client uses.
export { quote as quoteLocal, quote2 as quoteAddress } from "../base/quote.ts";

/** True when text may go on a command line: no CR, LF or NUL (command injection). */
export function safeForCommand(text: string): boolean {
  return !/[\r\n\0]/.test(text);
}

export interface DotStuffer {
  /** Encodes one chunk of the message: LF and bare CR become CRLF, a leading "." is doubled. */
  push(chunk: Uint8Array): Uint8Array;
  /** The terminating ".\r\n", or null when the message ended inside a line (qmail: #5.6.2). */
  end(): Uint8Array | null;
}

const CR = 13;
const LF = 10;
const DOT = 46;

/**
 * The message body to DATA format, streaming (notqmail's blast(): CRLF and
 * LF end a line, a bare CR too; no bare CR or LF ever reaches the wire).
 */
export function createDotStuffer(): DotStuffer {
  let atLineStart = true;
  let pendingCR = false;
  return {
    push(chunk) {
      const out = new Uint8Array(chunk.length * 2 + 2);
      let n = 0;
      for (const c of chunk) {
        if (pendingCR) {
          pendingCR = false;
          out[n++] = CR;
          out[n++] = LF;
          atLineStart = true;
          if (c === LF) continue;
        }
        if (c === CR) {
          pendingCR = true;
          continue;
        }
        if (c === LF) {
          out[n++] = CR;
          out[n++] = LF;
          atLineStart = true;
          continue;
        }
        if (atLineStart && c === DOT) out[n++] = DOT;
        out[n++] = c;
        atLineStart = false;
      }
      return out.subarray(0, n);
    },
    end() {
      if (pendingCR) return Uint8Array.of(CR, LF, DOT, CR, LF);
      return atLineStart ? Uint8Array.of(DOT, CR, LF) : null;
    },
  };
}
