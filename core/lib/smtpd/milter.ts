import { fromBytes, toBytes } from "../base/bytes.ts";

/**
 * The milter protocol, version 6 (Sendmail's libmilter, as Postfix speaks
 * it; qm-smtpd(8), "Milters"): every packet is a 4-byte big-endian length
 * (the command byte included), one command byte, then its data. This file
 * builds the MTA's commands and reads the milter's replies; the socket is
 * core/io/smtpd/milter.ts and the message edits milter-edit.ts.
 */
export const MILTER_VERSION = 6;
/** The largest reply packet taken (a body chunk is at most 65535 bytes without SMFIP_MDS_*, which qm does not offer). */
export const MAX_PACKET = 1024 * 1024;
/** Body chunks sent (libmilter's MILTER_CHUNK_SIZE). */
export const BODY_CHUNK = 65535;

/** SMFIF_*: the modifications a milter may ask for; qm allows all of them. */
export const ACT = { addHeaders: 0x01, changeBody: 0x02, addRcpt: 0x04, delRcpt: 0x08, changeHeaders: 0x10, quarantine: 0x20, changeFrom: 0x40, addRcptPar: 0x80, setSymList: 0x100 } as const;
export const OFFERED_ACTIONS = 0x1ff;
/** SMFIP_*: the steps a milter may skip, or answer without a reply (NR_*). */
export const PROTO = {
  noConnect: 0x01, noHelo: 0x02, noMail: 0x04, noRcpt: 0x08, noBody: 0x10, noHeaders: 0x20, noEoh: 0x40, nrHeader: 0x80,
  noUnknown: 0x100, noData: 0x200, skip: 0x400, rcptRej: 0x800, nrConnect: 0x1000, nrHelo: 0x2000, nrMail: 0x4000,
  nrRcpt: 0x8000, nrData: 0x10000, nrUnknown: 0x20000, nrEoh: 0x40000, nrBody: 0x80000, headerLeadSpace: 0x100000,
} as const;
/** Everything but RCPT_REJ (qm does not show refused recipients) and HDR_LEADSPC (values go without their leading blanks). */
export const OFFERED_PROTOCOL = 0xfffff & ~PROTO.rcptRej;

export type Stage = "connect" | "helo" | "mail" | "rcpt" | "data" | "header" | "eoh" | "body" | "eom";
/** Each stage's command byte and the SMFIP_ bits that skip it or drop its reply. */
export const STAGES: ReadonlyMap<Stage, { readonly cmd: string; readonly skip: number; readonly noReply: number }> = new Map([
  ["connect", { cmd: "C", skip: PROTO.noConnect, noReply: PROTO.nrConnect }],
  ["helo", { cmd: "H", skip: PROTO.noHelo, noReply: PROTO.nrHelo }],
  ["mail", { cmd: "M", skip: PROTO.noMail, noReply: PROTO.nrMail }],
  ["rcpt", { cmd: "R", skip: PROTO.noRcpt, noReply: PROTO.nrRcpt }],
  ["data", { cmd: "T", skip: PROTO.noData, noReply: PROTO.nrData }],
  ["header", { cmd: "L", skip: PROTO.noHeaders, noReply: PROTO.nrHeader }],
  ["eoh", { cmd: "N", skip: PROTO.noEoh, noReply: PROTO.nrEoh }],
  ["body", { cmd: "B", skip: PROTO.noBody, noReply: PROTO.nrBody }],
  ["eom", { cmd: "E", skip: 0, noReply: 0 }],
] as const);

export function packet(cmd: string, ...parts: readonly (Uint8Array | string)[]): Uint8Array {
  const bytes = parts.map((p) => (typeof p === "string" ? toBytes(p) : p));
  const len = 1 + bytes.reduce((n, b) => n + b.length, 0);
  const out = new Uint8Array(4 + len);
  new DataView(out.buffer).setUint32(0, len);
  out[4] = cmd.charCodeAt(0);
  let at = 5;
  for (const b of bytes) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

const u32 = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0);
  return b;
};
/** A NUL-ended string; a NUL inside would end it early, so none is let in. */
const str = (s: string) => `${s.replace(/\0/g, "")}\0`;

export const encode = {
  optneg: (actions = OFFERED_ACTIONS, protocol = OFFERED_PROTOCOL) => packet("O", u32(MILTER_VERSION), u32(actions), u32(protocol)),
  /** SMFIC_MACRO before `cmd`: `{name}` or one-letter names with their values. */
  macros: (cmd: string, pairs: readonly (readonly [string, string])[]) => packet("D", cmd, ...pairs.flatMap(([k, v]) => [str(k), str(v)])),
  connect: (host: string, ip: string, port: number) => {
    const family = /^\d+\.\d+\.\d+\.\d+$/.test(ip) ? "4" : ip.includes(":") ? "6" : "U";
    if (family === "U") return packet("C", str(host), "U");
    const p = new Uint8Array(2);
    new DataView(p.buffer).setUint16(0, port & 0xffff);
    return packet("C", str(host), family, p, str(ip));
  },
  helo: (name: string) => packet("H", str(name)),
  mail: (args: readonly string[]) => packet("M", ...args.map(str)),
  rcpt: (args: readonly string[]) => packet("R", ...args.map(str)),
  data: () => packet("T"),
  header: (name: string, value: string) => packet("L", str(name), str(value)),
  eoh: () => packet("N"),
  body: (chunk: Uint8Array) => packet("B", chunk),
  eom: () => packet("E"),
  abort: () => packet("A"),
  quit: () => packet("Q"),
};

export type Reply =
  | { readonly kind: "optneg"; readonly version: number; readonly actions: number; readonly protocol: number }
  | { readonly kind: "accept" | "continue" | "discard" | "reject" | "tempfail" | "skip" | "progress" }
  | { readonly kind: "replycode"; readonly lines: readonly string[]; readonly temp: boolean }
  | { readonly kind: "addheader"; readonly name: string; readonly value: string }
  | { readonly kind: "insheader" | "chgheader"; readonly index: number; readonly name: string; readonly value: string }
  | { readonly kind: "addrcpt" | "delrcpt"; readonly rcpt: string }
  | { readonly kind: "chgfrom"; readonly from: string }
  | { readonly kind: "replbody"; readonly chunk: Uint8Array }
  | { readonly kind: "quarantine"; readonly reason: string };

export type Decoded = { readonly ok: true; readonly reply: Reply } | { readonly ok: false; readonly why: string };

/** What a complete packet's buffer holds: a packet and what follows it, a need for more bytes, or a framing error. */
export function takePacket(buf: Uint8Array): { readonly cmd: number; readonly data: Uint8Array; readonly rest: Uint8Array } | "more" | { readonly error: string } {
  if (buf.length < 4) return "more";
  const len = new DataView(buf.buffer, buf.byteOffset, 4).getUint32(0);
  if (len === 0) return { error: "an empty packet" };
  if (len > MAX_PACKET) return { error: `a packet of ${len} bytes (limit ${MAX_PACKET})` };
  if (buf.length < 4 + len) return "more";
  return { cmd: buf[4]!, data: buf.subarray(5, 4 + len), rest: buf.subarray(4 + len) };
}

const SIMPLE = new Map<number, Reply["kind"]>([["a", "accept"], ["c", "continue"], ["d", "discard"], ["r", "reject"], ["t", "tempfail"], ["s", "skip"], ["p", "progress"], ["f", "tempfail"], ["4", "tempfail"]].map(([c, k]) => [c!.charCodeAt(0), k as Reply["kind"]]));

/** A milter's reply packet, checked: NUL-ended strings, reply codes 4xx or 5xx, header names without blanks or colons. */
export function decodeReply(cmd: number, data: Uint8Array): Decoded {
  const bad = (why: string): Decoded => ({ ok: false, why });
  const good = (reply: Reply): Decoded => ({ ok: true, reply });
  const c = String.fromCharCode(cmd);
  const simple = SIMPLE.get(cmd);
  if (simple) return good({ kind: simple } as Reply);
  if (c === "O") {
    if (data.length < 12) return bad("a short option negotiation");
    const v = new DataView(data.buffer, data.byteOffset, 12);
    return good({ kind: "optneg", version: v.getUint32(0), actions: v.getUint32(4), protocol: v.getUint32(8) });
  }
  const index = c === "i" || c === "m" ? 4 : 0;
  if (data.length < index) return bad(`a short reply '${c}'`);
  if (c === "b") return good({ kind: "replbody", chunk: data });
  const strings = cStrings(data.subarray(index));
  if (strings === null) return bad(`reply '${c}' is not NUL-ended strings`);
  const [a = "", b] = strings;
  if (c === "y") return replyCode(a);
  if (c === "h" || c === "i" || c === "m") {
    if (strings.length !== 2 || !/^[!-9;-~]{1,200}$/.test(a)) return bad(`reply '${c}' has a bad header name`);
    const n = index ? new DataView(data.buffer, data.byteOffset, 4).getUint32(0) : 0;
    return good(c === "h" ? { kind: "addheader", name: a, value: b! } : { kind: c === "i" ? "insheader" : "chgheader", index: n, name: a, value: b! });
  }
  if (c === "+" || c === "-" || c === "2" || c === "e") {
    const addr = a.replace(/^<(.*)>$/, "$1");
    if (addr.length > 1000 || /[\r\n]/.test(addr)) return bad(`reply '${c}' has a bad address`);
    if (c === "e") return good({ kind: "chgfrom", from: addr });
    return good({ kind: c === "-" ? "delrcpt" : "addrcpt", rcpt: addr });
  }
  if (c === "q") return good({ kind: "quarantine", reason: a });
  return bad(`unknown reply '${printable(c)}'`);
}

/** SMFIR_REPLYCODE: "550 5.7.1 text", several lines joined by CR LF; kept to printable ASCII, 10 lines of 512 bytes. */
function replyCode(text: string): Decoded {
  const lines = text.split(/\r?\n/).filter((l) => l !== "");
  const code = /^([45])\d\d(?=[ -]|$)/.exec(lines[0] ?? "")?.[0];
  if (code === undefined || lines.length > 10) return { ok: false, why: `a reply code that is not 4xx or 5xx: ${JSON.stringify(printable(text.slice(0, 80)))}` };
  const out: string[] = [];
  for (const [i, l] of lines.entries()) {
    if (!l.startsWith(code)) return { ok: false, why: "a multi-line reply whose codes differ" };
    const rest = printable(l.slice(4, 512)).trim() || "refused by a milter";
    out.push(`${code}${i === lines.length - 1 ? " " : "-"}${rest}`);
  }
  return { ok: true, reply: { kind: "replycode", lines: out, temp: code.startsWith("4") } };
}

function cStrings(b: Uint8Array): string[] | null {
  if (b.length === 0 || b[b.length - 1] !== 0) return null;
  return fromBytes(b.subarray(0, -1)).split("\0");
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, "?");
}

/**
 * What the option negotiation settled: the milter's actions and steps, cut
 * to what was offered (a bit asked for beyond that is not granted, as
 * Postfix does), or why the reply is no negotiation at all.
 */
export function negotiated(r: Reply): { readonly actions: number; readonly protocol: number } | string {
  if (r.kind !== "optneg") return `the first reply is '${r.kind}', not an option negotiation`;
  if (r.version < 2 || r.version > MILTER_VERSION) return `milter protocol version ${r.version} (qm speaks 2 to ${MILTER_VERSION})`;
  return { actions: r.actions & OFFERED_ACTIONS, protocol: r.protocol & OFFERED_PROTOCOL };
}

/** The SMFIF_ bit a modification needs. */
export function actionNeeded(r: Reply): number {
  const needs: Partial<Record<Reply["kind"], number>> = { addheader: ACT.addHeaders, insheader: ACT.addHeaders, chgheader: ACT.changeHeaders, addrcpt: ACT.addRcpt | ACT.addRcptPar, delrcpt: ACT.delRcpt, chgfrom: ACT.changeFrom, replbody: ACT.changeBody, quarantine: ACT.quarantine };
  return needs[r.kind] ?? 0;
}
