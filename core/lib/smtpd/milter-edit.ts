import { fromBytes, toBytes } from "../base/bytes.ts";
import { recipientKey } from "../queue/envelope.ts";
import type { Reply } from "./milter.ts";

/**
 * A held message as the milters see it and change it (qm-smtpd(8),
 * "Milters"): the header fields one by one, the body as bytes. The queue
 * keeps lines ending in LF; milters get CR LF in the body (as Postfix and
 * Sendmail send it) and their replacement body comes back to LF. Header
 * values go without their leading blanks (qm does not offer
 * SMFIP_HDR_LEADSPC) and with LF between folded lines.
 */
export interface Field {
  readonly name: string;
  /** The whole field as stored, "Name: value\n" with its folded lines. */
  readonly raw: string;
}
export interface Held {
  readonly fields: readonly Field[];
  /** The empty line between header and body ("" when the message had none). */
  readonly separator: string;
  readonly body: Uint8Array;
}

const NAME = /^([!-9;-~]+)[ \t]*:/;

/** Splits a message at the end of its header: the first empty line, or the first line that is neither a field nor a continuation. */
export function splitMessage(msg: Uint8Array): Held {
  const fields: { name: string; raw: string }[] = [];
  let at = 0;
  while (at < msg.length) {
    let lf = msg.indexOf(10, at);
    if (lf < 0) lf = msg.length - 1;
    const line = fromBytes(msg.subarray(at, lf + 1));
    if (line === "\n" || line === "\r\n") return { fields, separator: line, body: msg.subarray(lf + 1) };
    const last = fields[fields.length - 1];
    if ((line[0] === " " || line[0] === "\t") && last) last.raw += line;
    else {
      const m = NAME.exec(line);
      if (!m) break;
      fields.push({ name: m[1]!, raw: line });
    }
    at = lf + 1;
  }
  return { fields, separator: "", body: msg.subarray(at) };
}

/** A field's value as a milter gets it: after the colon, leading blanks and the final line end removed. */
export function fieldValue(f: Field): string {
  return f.raw.slice(f.raw.indexOf(":") + 1).replace(/^[ \t]+/, "").replace(/\r?\n$/, "");
}

export function joinMessage(h: Held): Uint8Array {
  const head = toBytes(h.fields.map((f) => f.raw).join("") + h.separator);
  const out = new Uint8Array(head.length + h.body.length);
  out.set(head);
  out.set(h.body, head.length);
  return out;
}

/** LF line ends to CR LF (a CR LF already there stays). */
export function toCrlf(b: Uint8Array): Uint8Array {
  let extra = 0;
  for (let i = 0; i < b.length; i++) if (b[i] === 10 && (i === 0 || b[i - 1] !== 13)) extra++;
  if (extra === 0) return b;
  const out = new Uint8Array(b.length + extra);
  let o = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 10 && (i === 0 || b[i - 1] !== 13)) out[o++] = 13;
    out[o++] = b[i]!;
  }
  return out;
}

/** CR LF to LF, as the queue keeps lines. */
export function fromCrlf(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  let o = 0;
  for (let i = 0; i < b.length; i++) if (!(b[i] === 13 && b[i + 1] === 10)) out[o++] = b[i]!;
  return out.subarray(0, o);
}

/** A milter's field made safe to store: LF line ends, no bare CR, every folded line starting with a blank. */
export function formatField(name: string, value: string): string {
  const v = value.replace(/\r\n/g, "\n").replace(/\r/g, "").replace(/\n+$/, "").replace(/\n(?![ \t])/g, "\n\t");
  return `${name}: ${v}\n`;
}

type HeaderEdit = Extract<Reply, { kind: "addheader" | "insheader" | "chgheader" }>;

/**
 * One header edit, as libmilter documents them: add goes last; insert at
 * a 0-based position (past the end: last); change the index-th (from 1)
 * field of that name, an empty value deleting it, a missing one added.
 */
export function editHeader(h: Held, e: HeaderEdit): Held {
  const fields = [...h.fields];
  const field = { name: e.name, raw: formatField(e.name, e.value) };
  if (e.kind === "addheader") fields.push(field);
  else if (e.kind === "insheader") fields.splice(Math.min(e.index, fields.length), 0, field);
  else {
    const want = Math.max(1, e.index);
    let seen = 0;
    const at = fields.findIndex((f) => f.name.toLowerCase() === e.name.toLowerCase() && ++seen === want);
    if (at >= 0 && e.value === "") fields.splice(at, 1);
    else if (at >= 0) fields[at] = { name: fields[at]!.name, raw: formatField(fields[at]!.name, e.value) };
    else if (e.value !== "") fields.push(field);
  }
  return { ...h, fields };
}

export interface Envelope {
  readonly sender: string;
  readonly recipients: readonly string[];
}

/** change sender, add and delete recipients: a recipient already there is not added twice; one not there is not deleted. */
export function editEnvelope(env: Envelope, e: Extract<Reply, { kind: "chgfrom" | "addrcpt" | "delrcpt" }>): Envelope {
  if (e.kind === "chgfrom") return { ...env, sender: e.from };
  const key = recipientKey(e.rcpt);
  const there = env.recipients.some((r) => recipientKey(r) === key);
  if (e.kind === "addrcpt") return there ? env : { ...env, recipients: [...env.recipients, e.rcpt] };
  return { ...env, recipients: env.recipients.filter((r) => recipientKey(r) !== key) };
}
