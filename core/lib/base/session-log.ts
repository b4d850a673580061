import { logSafe } from "./log-safe.ts";
import type { Peer } from "./peer.ts";

/**
 * The session log of qm smtpd and qm qmqpd (qm-log(5), a stable format):
 * one line per event, `<server>: <session> <event> <client IP> ...`, where
 * the session is `<pid>.<n>` (n counts the server process's connections
 * from 1) and every text from the client passes through logSafe. A password
 * never reaches a line.
 */
export type Server = "smtpd" | "qmqpd";

/** Where a message went: its queue id, a maildrop file qm send takes in later, or another queue program's pid. */
export type Queued = { readonly id: number } | { readonly maildrop: string } | { readonly qp: number };

/** An address as logged: <...>, at most 300 bytes of it. */
export function addr(a: string): string {
  return `<${logSafe(a.length > 300 ? `${a.slice(0, 300)}...` : a)}>`;
}

function where(q: Queued): string {
  return "id" in q ? `msg ${q.id}` : "maildrop" in q ? `maildrop/${logSafe(q.maildrop)}` : `qp ${q.qp}`;
}

export const sessionLine = {
  connect: (srv: Server, sid: string, p: Peer) => `${srv}: ${sid} connect ${p.remoteIP} port ${p.remotePort} to ${p.localIP} port ${p.localPort}`,
  starttls: (sid: string, ip: string, protocol: string, cipher: string) => `smtpd: ${sid} starttls ${ip} ${logSafe(protocol)} ${logSafe(cipher)}`,
  /** the TLS handshake of an smtps listener, before the greeting */
  tls: (sid: string, ip: string, protocol: string, cipher: string) => `smtpd: ${sid} tls ${ip} ${logSafe(protocol)} ${logSafe(cipher)}`,
  /** `mech`: PLAIN or LOGIN; `via`: the back end that judged the password */
  auth: (sid: string, ip: string, verdict: "ok" | "failed" | "tempfail", user: string, mech: string, via: "checkpassword" | "dovecot" | "virtualusers") =>
    `smtpd: ${sid} auth ${verdict} ${ip} user ${userText(user)} mech ${logSafe(mech)} via ${via}`,
  /** `what`: the command and its context (refusedWhat); `reply`: the reply as sent, first line */
  refused: (srv: Server, sid: string, ip: string, what: string, reply: string) => `${srv}: ${sid} refused ${ip} ${what}: ${safeReply(reply)}`,
  /** `user`: who authenticated in this session, if anyone */
  accepted: (srv: Server, sid: string, ip: string, q: Queued, sender: string, rcpts: number, user: string | null = null) =>
    `${srv}: ${sid} accepted ${ip} ${where(q)} from ${addr(sender)} rcpts ${rcpts}${user === null ? "" : ` user ${userText(user)}`}`,
  dropped: (srv: Server, sid: string, ip: string, reason: string) => `${srv}: ${sid} dropped ${ip}: ${safeReply(reason)}`,
} as const;

/** A user name as logged: made safe, at most 200 bytes. */
function userText(user: string): string {
  return logSafe(user.slice(0, 200));
}

/** A reply's text with spaces kept (they separate code, enhanced code and reason), everything else made safe. */
function safeReply(r: string): string {
  return r.slice(0, 1000).split(" ").map(logSafe).join(" ");
}

export interface Transaction {
  readonly sender: string | null;
  readonly recipients: readonly string[];
}

/**
 * What a refused SMTP command was, for its log line: the verb in capitals,
 * for MAIL and RCPT the address, and the transaction it belongs to.
 * `address` parses a MAIL/RCPT argument (null when it does not parse).
 * During AUTH the line is a credential: only "AUTH" is said, with the user
 * name when the exchange has given it already (`saslUser`, LOGIN's second step).
 */
export function refusedWhat(line: string | null, inSasl: boolean, t: Transaction, address: (arg: string, key: "FROM" | "TO") => string | null, saslUser: string | null = null): string {
  if (inSasl) return saslUser === null ? "AUTH" : `AUTH user ${userText(saslUser)}`;
  if (line === null) return "(line too long)";
  const sp = line.indexOf(" ");
  const verb = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
  const arg = sp < 0 ? "" : line.slice(sp + 1).trim();
  const from = t.sender === null ? "" : ` from ${addr(t.sender)}`;
  if (verb === "MAIL") return `MAIL ${argText(arg, "FROM", address)}`;
  if (verb === "RCPT") return `RCPT ${argText(arg, "TO", address)}${from}`;
  if (verb === "DATA" || verb === ".") return `${verb}${from} rcpts ${t.recipients.length}`;
  if (verb === "AUTH") return "AUTH";
  return verb.length > 12 ? `${logSafe(verb.slice(0, 12))}...` : logSafe(verb);
}

function argText(arg: string, key: "FROM" | "TO", address: (arg: string, key: "FROM" | "TO") => string | null): string {
  const a = address(arg, key);
  return a !== null ? addr(a) : logSafe(arg.length > 300 ? `${arg.slice(0, 300)}...` : arg);
}
