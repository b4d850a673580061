/**
 * RFC 3461's SMTP parameters as smtpd takes them: RET and ENVID at MAIL,
 * NOTIFY and ORCPT at RCPT (qm-smtpd(8) "DSN"). Each value is checked and
 * decoded here; a bad one is a 501 reply, as RFC 3461 §5 asks.
 */
import { decodeXtext, MAX_ENVID, MAX_ORCPT, parseNotify, type MessageDsn, type RcptDsn, type Ret } from "../queue/dsn.ts";
import { printable } from "./address.ts";

export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reply: string };

const no = (reply: string): { ok: false; reply: string } => ({ ok: false, reply });

/** RET= and ENVID= of a MAIL command's parameters (other keys are not looked at). */
export function mailDsn(params: ReadonlyMap<string, string | null>): Checked<{ ret?: Ret; envid?: string }> {
  const out: { ret?: Ret; envid?: string } = {};
  const ret = params.get("RET");
  if (params.has("RET")) {
    const v = (ret ?? "").toUpperCase();
    if (v !== "FULL" && v !== "HDRS") return no("501 5.5.4 RET must be FULL or HDRS");
    out.ret = v;
  }
  if (params.has("ENVID")) {
    const raw = params.get("ENVID") ?? "";
    if (raw === "") return no("501 5.5.4 ENVID needs a value");
    if (raw.length > MAX_ENVID) return no(`501 5.5.4 ENVID longer than ${MAX_ENVID} characters`);
    const v = decodeXtext(raw);
    if (v === null) return no("501 5.5.4 ENVID is not valid xtext");
    out.envid = v;
  }
  return { ok: true, value: out };
}

/** NOTIFY= and ORCPT= of a RCPT command; anything else there is refused as before (555). */
export function rcptDsn(params: ReadonlyMap<string, string | null>): Checked<RcptDsn> {
  const out: { notify?: RcptDsn["notify"]; orcpt?: string } = {};
  for (const [key, value] of params) {
    if (key === "NOTIFY") {
      const n = value === null ? null : parseNotify(value);
      if (n === null) return no("501 5.5.4 NOTIFY must be NEVER, or one or more of SUCCESS, FAILURE, DELAY");
      out.notify = n;
    } else if (key === "ORCPT") {
      const raw = value ?? "";
      if (raw.length > MAX_ORCPT) return no(`501 5.5.4 ORCPT longer than ${MAX_ORCPT} characters`);
      const semi = raw.indexOf(";");
      if (semi < 1 || !/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(raw.slice(0, semi))) return no("501 5.5.4 ORCPT must be addr-type;xtext");
      const v = decodeXtext(raw.slice(semi + 1));
      if (v === null || v === "") return no("501 5.5.4 ORCPT is not valid xtext");
      out.orcpt = `${raw.slice(0, semi)};${v}`;
    } else return no(`555 5.5.4 unsupported RCPT parameter ${printable(key)}`);
  }
  return { ok: true, value: out };
}

/** The message's parameters for the queue, or undefined when none was given. */
export function envelopeDsn(mail: { ret?: Ret; envid?: string }, rcpts: ReadonlyMap<string, RcptDsn>): MessageDsn | undefined {
  if (mail.ret === undefined && mail.envid === undefined && rcpts.size === 0) return undefined;
  return { ...mail, rcpts };
}
