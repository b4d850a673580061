/**
 * The DATA body decoder (docs/qmail.md §6.4, stricter): only CR LF "." CR LF ends
 * the message. A bare LF or a bare CR anywhere is fatal (the session answers
 * 451 and hangs up), so no SMTP smuggling variant can end the data early or
 * start a second message. CR LF becomes LF, a leading dot is removed. Size,
 * line, header and hop limits are remembered and reported at the end, after
 * the client's final dot, as qmail-smtpd does; output stops at the first one.
 */
export interface DataLimits {
  readonly databytes: number; // 0: no limit
  readonly maxLine: number; // bytes of one line without CR LF
  readonly maxHeader: number; // bytes of the header block
  readonly maxHops: number; // Received + Delivered-To lines
}
export type DataProblem = "size" | "line" | "header" | "hops";
export type DataFatal = "bare-lf" | "bare-cr";

export interface DataDecoder {
  state: "bol" | "mid" | "dot" | "cr" | "dotcr";
  inHeader: boolean;
  lineLen: number;
  lineHead: string; // first 9 bytes of a header line, lowercased
  headerBytes: number;
  hops: number;
  bytes: number; // decoded bytes so far
  problem: DataProblem | null;
  fatal: DataFatal | null;
  done: boolean;
  readonly limits: DataLimits;
}

export const DEFAULT_LIMITS: DataLimits = { databytes: 0, maxLine: 65_536, maxHeader: 1_048_576, maxHops: 100 };

export function startData(limits: DataLimits): DataDecoder {
  return { state: "bol", inHeader: true, lineLen: 0, lineHead: "", headerBytes: 0, hops: 0, bytes: 0, problem: null, fatal: null, done: false, limits };
}

export interface Fed {
  readonly out: Uint8Array; // decoded bytes for the queue (empty after a problem)
  readonly used: number; // input bytes consumed; the rest belongs to the next command
}

const CR = 13;
const LF = 10;
const DOT = 46;

/** Feeds one chunk; stops at the end of data or at a fatal byte (see d.done, d.fatal). */
export function feedData(d: DataDecoder, chunk: Uint8Array): Fed {
  const out = new Uint8Array(chunk.length);
  let n = 0;
  let i = 0;
  for (; i < chunk.length && !d.done; i++) {
    const c = chunk[i]!;
    if (d.state === "mid" || d.state === "bol") {
      if (c === CR) d.state = "cr";
      else if (c === LF) d.fatal = "bare-lf";
      else if (c === DOT && d.state === "bol") d.state = "dot";
      else {
        d.state = "mid";
        out[n++] = c;
        lineByte(d, c);
      }
    } else if (d.state === "cr") {
      if (c !== LF) d.fatal = "bare-cr";
      else {
        out[n++] = LF;
        endLine(d);
      }
    } else if (d.state === "dot") {
      if (c === CR) d.state = "dotcr";
      else if (c === LF) d.fatal = "bare-lf";
      else {
        d.state = "mid";
        out[n++] = c;
        lineByte(d, c);
      }
    } else if (c === LF) d.done = true; // "dotcr": "." CR LF at the start of a line
    else d.fatal = "bare-cr";
    if (d.fatal) d.done = true;
  }
  return account(d, out.subarray(0, n), i);
}

function lineByte(d: DataDecoder, c: number): void {
  d.lineLen++;
  if (d.inHeader && d.lineHead.length < 9) d.lineHead += String.fromCharCode(c >= 65 && c <= 90 ? c + 32 : c);
}

function endLine(d: DataDecoder): void {
  if (d.lineLen > d.limits.maxLine) d.problem ??= "line";
  if (d.inHeader) {
    d.headerBytes += d.lineLen + 1;
    if (d.headerBytes > d.limits.maxHeader) d.problem ??= "header";
    if (d.lineLen === 0) d.inHeader = false;
    else if (d.lineHead.startsWith("received") || d.lineHead === "delivered") d.hops++;
    if (d.hops >= d.limits.maxHops) d.problem ??= "hops";
  }
  d.lineLen = 0;
  d.lineHead = "";
  d.state = "bol";
}

function account(d: DataDecoder, out: Uint8Array, used: number): Fed {
  if (d.lineLen > d.limits.maxLine) d.problem ??= "line";
  if (d.inHeader && d.headerBytes + d.lineLen > d.limits.maxHeader) d.problem ??= "header";
  d.bytes += out.length;
  if (d.limits.databytes > 0 && d.bytes > d.limits.databytes) d.problem ??= "size";
  return { out: d.problem || d.fatal ? new Uint8Array(0) : out, used };
}

/** The reply for a problem found in the data (the message was not queued). */
export function problemReply(p: DataProblem, limits: DataLimits): string {
  const replies = new Map<DataProblem, string>([
    ["size", "552 5.3.4 sorry, that message size exceeds my databytes limit"],
    ["line", `554 5.6.0 sorry, a line of the message is longer than ${limits.maxLine} bytes`],
    ["header", `552 5.3.4 sorry, the message header is longer than ${limits.maxHeader} bytes`],
    ["hops", "554 5.4.6 too many hops, this message is looping"],
  ]);
  return replies.get(p) ?? "554 5.6.0 message refused";
}

export function fatalReply(f: DataFatal): string {
  const what = f === "bare-lf" ? "bare LF" : "bare CR";
  return `451 4.5.0 ${what} in message data: only CR LF ends a line; see https://cr.yp.to/docs/smtplf.html`;
}
