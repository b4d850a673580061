/**
 * RFC 3461 delivery status notification parameters as the queue keeps them
 * with a message: RET and ENVID from MAIL, NOTIFY and ORCPT from each RCPT
 * (qm-queue(5) "dsn/"). xtext (RFC 3461 §4) is decoded on the way in and
 * encoded again for the next hop; the queue keeps decoded text.
 */

export type Ret = "FULL" | "HDRS";
export type NotifyWhen = "SUCCESS" | "FAILURE" | "DELAY";
/** NOTIFY=NEVER, or the conditions asked for. */
export type Notify = "NEVER" | readonly NotifyWhen[];

export interface RcptDsn {
  readonly notify?: Notify;
  /** ORCPT decoded: "rfc822;joe@x.test" (address type, ";", the address). */
  readonly orcpt?: string;
}

export interface MessageDsn {
  readonly ret?: Ret;
  /** ENVID decoded. */
  readonly envid?: string;
  /** Per recipient, keyed by the envelope recipient as queued. */
  readonly rcpts: ReadonlyMap<string, RcptDsn>;
}

/** RFC 3461 §4.4: ENVID at most 100 characters (of xtext). */
export const MAX_ENVID = 100;
/** RFC 3461 §4.2: ORCPT's address at most 500 characters. */
export const MAX_ORCPT = 500;

const HEX = "0123456789ABCDEF";

/** RFC 3461 §4: xtext decoded, or null when malformed (a bad "+XX", a character outside "!".."~", or "="). */
export function decodeXtext(s: string): string | null {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2b) {
      const h = s.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(h)) return null;
      out += String.fromCharCode(parseInt(h, 16));
      i += 2;
    } else if (c < 0x21 || c > 0x7e || c === 0x3d) return null;
    else out += s[i];
  }
  return out;
}

/** xtext of a byte string: "+", "=", and what is outside "!".."~" as "+XX". */
export function encodeXtext(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) & 0xff;
    out += c < 0x21 || c > 0x7e || c === 0x2b || c === 0x3d ? `+${HEX[c >> 4]}${HEX[c & 15]}` : s[i];
  }
  return out;
}

/** NOTIFY's value: NEVER alone, or a set of SUCCESS, FAILURE, DELAY (any case); null when not. */
export function parseNotify(v: string): Notify | null {
  const words = v.toUpperCase().split(",");
  if (words.length === 1 && words[0] === "NEVER") return "NEVER";
  const seen = new Set<NotifyWhen>();
  for (const w of words) {
    if (w !== "SUCCESS" && w !== "FAILURE" && w !== "DELAY") return null;
    if (seen.has(w)) return null;
    seen.add(w);
  }
  return [...seen];
}

/** Whether a notice of this kind is wanted: without NOTIFY, failures and delays only (RFC 3461 §4.1). */
export function wants(r: RcptDsn | undefined, when: NotifyWhen): boolean {
  const n = r?.notify;
  if (n === undefined) return when !== "SUCCESS";
  return n !== "NEVER" && n.includes(when);
}

/** A success to report at the message's end: "delivered" (local) or "relayed" (to a server without DSN). */
export interface DoneNote {
  readonly action: "delivered" | "relayed";
  readonly addr: string;
  readonly text: string;
}

/** queue/dsn/<N>/<id>: the parameters, whether the delay warning went out, the successes to report. */
export interface DsnState {
  readonly dsn: MessageDsn;
  readonly warned: boolean;
  readonly done: readonly DoneNote[];
}

/** One "done" line, as appended when a success is recorded. */
export function formatDoneLine(d: DoneNote): string {
  return `done ${d.action} ${encodeXtext(d.addr)} ${encodeXtext(d.text) || "-"}\n`;
}

/** The record kept in queue/dsn/: one field a line, values xtext-encoded, so any byte survives. */
export function formatDsnRecord(st: DsnState): string {
  const d = st.dsn;
  const lines = ["qm-dsn 1"];
  if (d.ret) lines.push(`ret ${d.ret}`);
  if (d.envid !== undefined) lines.push(`envid ${encodeXtext(d.envid)}`);
  if (st.warned) lines.push("warned");
  for (const [addr, r] of d.rcpts) {
    const n = r.notify === undefined ? "-" : r.notify === "NEVER" ? "NEVER" : r.notify.join(",") || "-";
    lines.push(`rcpt ${encodeXtext(addr)} ${n} ${r.orcpt === undefined ? "-" : encodeXtext(r.orcpt)}`);
  }
  return `${lines.join("\n")}\n${st.done.map(formatDoneLine).join("")}`;
}

/** The record read back; a line that does not parse is skipped, a file that is not one gives null. */
export function parseDsnRecord(text: string): DsnState | null {
  const lines = text.split("\n");
  if (lines[0] !== "qm-dsn 1") return null;
  let ret: Ret | undefined;
  let envid: string | undefined;
  let warned = false;
  const rcpts = new Map<string, RcptDsn>();
  const done: DoneNote[] = [];
  for (const l of lines.slice(1)) {
    const f = l.split(" ");
    if (f[0] === "ret" && (f[1] === "FULL" || f[1] === "HDRS")) ret = f[1];
    else if (f[0] === "envid" && f.length === 2) envid = decodeXtext(f[1]!) ?? undefined;
    else if (f[0] === "warned") warned = true;
    else if (f[0] === "rcpt" && f.length === 4) {
      const addr = decodeXtext(f[1]!);
      const notify = f[2] === "-" ? undefined : parseNotify(f[2]!);
      const orcpt = f[3] === "-" ? undefined : decodeXtext(f[3]!);
      if (addr === null || notify === null || orcpt === null) continue;
      rcpts.set(addr, { ...(notify ? { notify } : {}), ...(orcpt !== undefined ? { orcpt } : {}) });
    } else if (f[0] === "done" && f.length === 4 && (f[1] === "delivered" || f[1] === "relayed")) {
      const addr = decodeXtext(f[2]!);
      const t = f[3] === "-" ? "" : decodeXtext(f[3]!);
      if (addr !== null && t !== null) done.push({ action: f[1], addr, text: t });
    }
  }
  return { dsn: { ...(ret ? { ret } : {}), ...(envid !== undefined ? { envid } : {}), rcpts }, warned, done };
}

/** True when nothing was asked: no record is kept. */
export function isEmptyDsn(d: MessageDsn | undefined): boolean {
  return !d || (d.ret === undefined && d.envid === undefined && [...d.rcpts.values()].every((r) => r.notify === undefined && r.orcpt === undefined));
}

/**
 * The envelope records (qm-queue(5)): `M<ret> <envid>` after the sender,
 * `N<notify> <orcpt>` before the recipient it is about; "-" for what was not
 * given, values xtext-encoded. Within MAX_ADDR as every envelope field.
 */
export function formatMRecord(d: MessageDsn): string | null {
  if (d.ret === undefined && d.envid === undefined) return null;
  return `M${d.ret ?? "-"} ${d.envid === undefined ? "-" : encodeXtext(d.envid)}`;
}
export function formatNRecord(r: RcptDsn | undefined): string | null {
  if (!r || (r.notify === undefined && r.orcpt === undefined)) return null;
  const n = r.notify === undefined ? "-" : r.notify === "NEVER" ? "NEVER" : r.notify.join(",");
  return `N${n} ${r.orcpt === undefined ? "-" : encodeXtext(r.orcpt)}`;
}
/** An M record's text (without the letter), or null when malformed. */
export function parseMRecord(s: string): { ret?: Ret; envid?: string } | null {
  const [ret, envid, more] = s.split(" ");
  if (more !== undefined || envid === undefined || (ret !== "-" && ret !== "FULL" && ret !== "HDRS")) return null;
  const e = envid === "-" ? undefined : decodeXtext(envid);
  if (e === null) return null;
  return { ...(ret !== "-" ? { ret } : {}), ...(e !== undefined ? { envid: e } : {}) };
}
/** An N record's text (without the letter), or null when malformed. */
export function parseNRecord(s: string): RcptDsn | null {
  const [n, orcpt, more] = s.split(" ");
  if (more !== undefined || orcpt === undefined || n === undefined) return null;
  const notify = n === "-" ? undefined : parseNotify(n);
  const o = orcpt === "-" ? undefined : decodeXtext(orcpt);
  if (notify === null || o === null) return null;
  return { ...(notify !== undefined ? { notify } : {}), ...(o !== undefined ? { orcpt: o } : {}) };
}

/** qm qctl show's lines for a message's parameters ("dsn: ..."), none when it gave none. */
export function formatDsnLines(st: DsnState | null): string[] {
  if (!st) return [];
  const d = st.dsn;
  const out: string[] = [];
  const head = [d.ret ? `ret ${d.ret}` : "", d.envid !== undefined ? `envid ${encodeXtext(d.envid)}` : "", st.warned ? "delay warning sent" : ""].filter((x) => x);
  if (head.length > 0) out.push(`dsn: ${head.join(", ")}`);
  for (const [addr, r] of d.rcpts) {
    const n = r.notify === undefined ? "" : ` notify ${r.notify === "NEVER" ? "NEVER" : r.notify.join(",")}`;
    out.push(`dsn: ${encodeXtext(addr)}${n}${r.orcpt !== undefined ? ` orcpt ${encodeXtext(r.orcpt)}` : ""}`);
  }
  for (const x of st.done) out.push(`dsn: ${encodeXtext(x.addr)} ${x.action}, notice at the end`);
  return out;
}
