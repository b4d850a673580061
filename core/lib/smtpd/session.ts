import { answer, startSasl, type Sasl, type SaslStep } from "./auth.ts";
import { domainProblem, isDoubleBounceSender, literalIP, parsePathArg, printable, routingTrick, splitAddress, type PathArg } from "./address.ts";
import { isUtf8 } from "../base/bytes.ts";
import { recipientKey, type Envelope } from "../queue/envelope.ts";
import type { RcptDsn, Ret } from "../queue/dsn.ts";
import { envelopeDsn, mailDsn, rcptDsn } from "./dsn-params.ts";

/**
 * The SMTP server as a pure state machine over command lines, qmail-smtpd's
 * command table (docs/qmail.md §6.2) plus ESMTP, STARTTLS and AUTH. Effects the
 * machine cannot do itself (a recipient lookup, a password check, the TLS
 * handshake, the message data) come back as `effect`; the caller does them
 * and feeds the outcome to the matching continuation below.
 */
export interface Policy {
  readonly greeting: string;
  readonly localiphost: string;
  readonly databytes: number; // 0: no limit
  readonly maxRcpt: number;
  readonly tls: boolean; // a certificate is there: STARTTLS is offered
  readonly auth: boolean; // a password back end is set (checkpassword, dovecotauth): AUTH is offered under TLS
  readonly submission: boolean; // RFC 6409: no MAIL before a successful AUTH (the submission and smtps listeners)
  readonly senderLogin: (user: string, sender: string) => boolean; // control/senderlogins: may this user send as that sender?
  readonly rcptCheck: boolean;
  readonly acceptsDomain: (domain: string) => boolean; // rcpthosts + morercpthosts, domain lowercased
  readonly isMyIP: (ip: Uint8Array) => boolean;
  readonly badMailFrom: (addr: string) => boolean;
  readonly queueHasRoom?: () => boolean; // control/queuefree: false while the queue's disk has less free
}

export interface Session {
  readonly helo: string | null;
  readonly esmtp: boolean;
  readonly tls: boolean;
  readonly user: string | null; // authenticated
  readonly relay: string | null; // RELAYCLIENT: appended to every recipient, rcpthosts skipped
  readonly sender: string | null;
  readonly utf8: boolean;
  readonly badSender: boolean;
  readonly recipients: readonly string[];
  readonly sasl: Sasl | null;
  readonly errors: number;
  readonly junk: number; // NOOP, RSET, VRFY, HELP so far
  readonly transactions: number; // MAIL commands taken so far
  readonly refused: number; // recipients refused so far
  readonly authFailures: number;
  /** RFC 3461 (dsn-params.ts): RET and ENVID of this MAIL; NOTIFY and ORCPT of each recipient that gave them. */
  readonly dsn?: { readonly ret?: Ret; readonly envid?: string };
  readonly rcptDsn?: ReadonlyMap<string, RcptDsn>;
  /** NOTIFY and ORCPT of the RCPT whose lookup ("rcpt" effect) is under way. */
  readonly pendingDsn?: RcptDsn;
}

export type Effect =
  | { readonly kind: "quit" }
  | { readonly kind: "data" }
  | { readonly kind: "starttls" }
  | { readonly kind: "rcpt"; readonly addr: string }
  | { readonly kind: "auth"; readonly mech: string; readonly user: string; readonly pass: string };

export interface Step {
  readonly session: Session;
  readonly replies: readonly string[];
  readonly effect?: Effect;
}

/** Unrecognized commands allowed before the session is dropped with 421. */
export const MAX_ERRORS = 20;
/** AUTH commands that may fail in one session; the last failure's reply is followed by 421 and the end. */
export const MAX_AUTH_FAILURES = 10;
/** NOOP, RSET, VRFY and HELP a session may send (Postfix's smtpd_junk_command_limit); then 421. */
export const MAX_JUNK = 100;
/** Messages (MAIL commands) a session may start; then 421, and the client connects again. */
export const MAX_TRANSACTIONS = 1000;
/** Recipients a session may have refused (probing for valid addresses); then 421. */
export const MAX_REFUSED = 50;

export function startSession(relay: string | null, tls = false): Session {
  return { helo: null, esmtp: false, tls, user: null, relay, sender: null, utf8: false, badSender: false, recipients: [], sasl: null, errors: 0, junk: 0, transactions: 0, refused: 0, authFailures: 0 };
}

const closing = (s: Session, line: string): Step => ({ session: s, replies: [line], effect: { kind: "quit" } });

/** NOOP, RSET, VRFY, HELP: each counts toward MAX_JUNK. */
function junk(s: Session, answer: (t: Session) => Step): Step {
  const junk = s.junk + 1;
  if (junk > MAX_JUNK) return closing({ ...s, junk }, `421 4.7.0 too many NOOP, RSET, VRFY or HELP commands (limit ${MAX_JUNK}), closing`);
  return answer({ ...s, junk });
}

/** A refused recipient: counts toward MAX_REFUSED. */
function refuse(s: Session, line: string): Step {
  const refused = s.refused + 1;
  if (refused >= MAX_REFUSED) return { session: { ...s, refused }, replies: [line, `421 4.7.0 too many refused recipients (limit ${MAX_REFUSED}), closing`], effect: { kind: "quit" } };
  return reply({ ...s, refused }, line);
}

const reply = (session: Session, ...replies: string[]): Step => ({ session, replies });
const reset = (s: Session): Session => ({ ...s, sender: null, utf8: false, badSender: false, recipients: [], dsn: undefined, rcptDsn: undefined, pendingDsn: undefined });

/** The recipient added, with its RFC 3461 parameters when it gave any. */
function addRecipient(s: Session, addr: string, d: RcptDsn | undefined): Session {
  const given = d && (d.notify !== undefined || d.orcpt !== undefined);
  return { ...s, recipients: [...s.recipients, addr], pendingDsn: undefined, ...(given ? { rcptDsn: new Map([...(s.rcptDsn ?? []), [addr, d]]) } : {}) };
}

type Handler = (s: Session, arg: string, p: Policy) => Step;

function helo(s: Session, arg: string, p: Policy, esmtp: boolean): Step {
  if (arg === "") return reply(s, `501 5.5.4 syntax: ${esmtp ? "EHLO" : "HELO"} hostname`);
  const next = { ...reset(s), helo: arg, esmtp };
  if (!esmtp) return reply(next, `250 ${p.greeting}`);
  const ext = ["PIPELINING", "8BITMIME", p.databytes > 0 ? `SIZE ${p.databytes}` : "SIZE", "ENHANCEDSTATUSCODES", "DSN", "SMTPUTF8"];
  if (p.tls && !s.tls) ext.push("STARTTLS");
  if (p.auth && s.tls) ext.push("AUTH PLAIN LOGIN");
  return reply(next, `250-${p.greeting}`, ...ext.map((e, i) => `250${i === ext.length - 1 ? " " : "-"}${e}`));
}

function mail(s: Session, arg: string, p: Policy): Step {
  if (s.helo === null) return reply(s, `503 5.5.1 send HELO or EHLO first${s.tls ? " (again, after STARTTLS)" : ""}`);
  if (s.sender !== null) return reply(s, "503 5.5.1 nested MAIL command: RSET first");
  if (p.submission && s.user === null) return reply(s, s.tls ? "530 5.7.0 authentication required" : "530 5.7.0 must issue a STARTTLS command first");
  if (s.transactions >= MAX_TRANSACTIONS) return closing(s, `421 4.7.0 too many messages in one session (limit ${MAX_TRANSACTIONS}), closing; connect again`);
  const parsed = parsePathArg(arg, "FROM");
  if (!parsed.ok) return reply(s, parsed.reply);
  const bad = mailParams(parsed.value, p);
  if (bad) return reply(s, bad);
  const dsn = mailDsn(parsed.value.params);
  if (!dsn.ok) return reply(s, dsn.reply);
  if (p.queueHasRoom && !p.queueHasRoom()) return reply(s, "452 4.3.1 insufficient system storage: the queue's disk is nearly full; try again later");
  const utf8 = parsed.value.params.has("SMTPUTF8");
  const addr = withLocalIP(parsed.value.addr, p);
  const { domain } = splitAddress(addr);
  if (!utf8 && /[\x80-\xff]/.test(addr)) return reply(s, "553 5.6.7 non-ASCII sender address requires SMTPUTF8");
  if (!isUtf8(addr)) return reply(s, "553 5.6.7 sender address is not valid UTF-8");
  const problem = addr === "" || domain === null || isDoubleBounceSender(addr) ? null : domainProblem(domain, utf8);
  if (problem) return reply(s, `553 5.1.7 bad sender address: ${problem}`);
  if (s.user !== null && !p.senderLogin(s.user, addr)) return reply(s, "553 5.7.1 sorry, you are not allowed to use that sender address (control/senderlogins)");
  return reply({ ...s, sender: addr, utf8, badSender: addr !== "" && p.badMailFrom(addr), recipients: [], transactions: s.transactions + 1, dsn: dsn.value, rcptDsn: undefined }, "250 2.1.0 ok");
}

function mailParams(arg: PathArg, p: Policy): string | null {
  for (const [key, value] of arg.params) {
    if (key === "SIZE") {
      if (value === null || !/^\d{1,15}$/.test(value)) return "501 5.5.4 SIZE needs a number";
      if (p.databytes > 0 && Number(value) > p.databytes) return "552 5.3.4 sorry, that message size exceeds my databytes limit";
    } else if (key === "BODY") {
      if (value === null || !/^(7bit|8bitmime)$/i.test(value)) return "555 5.5.4 BODY must be 7BIT or 8BITMIME";
    } else if (key === "SMTPUTF8") {
      if (value !== null) return "555 5.5.4 SMTPUTF8 takes no value";
    } else if (key !== "AUTH" && key !== "RET" && key !== "ENVID") return `555 5.5.4 unsupported MAIL parameter ${printable(key)}`;
  }
  return null;
}

/** qmail: box@[my.ip] becomes box@localiphost, for senders and recipients alike. */
function withLocalIP(addr: string, p: Policy): string {
  const { local, domain } = splitAddress(addr);
  const ip = domain === null ? null : literalIP(domain);
  return ip && p.isMyIP(ip) ? `${local}@${p.localiphost}` : addr;
}

function rcpt(s: Session, arg: string, p: Policy): Step {
  if (s.sender === null) return reply(s, "503 5.5.1 MAIL first");
  const parsed = parsePathArg(arg, "TO");
  if (!parsed.ok) return reply(s, parsed.reply);
  const d = rcptDsn(parsed.value.params);
  if (!d.ok) return reply(s, d.reply);
  if (s.badSender) return refuse(s, "553 5.7.1 sorry, your envelope sender is in my badmailfrom list");
  const addr = withLocalIP(parsed.value.addr, p);
  const refused = relayRefusal(s, addr, p);
  if (refused) return refuse(s, refused);
  const full = s.relay !== null && s.user === null ? addr + s.relay : addr;
  const key = recipientKey(full);
  if (s.recipients.some((r) => recipientKey(r) === key)) return reply(s, "250 2.1.5 ok (already a recipient: one copy)");
  if (s.recipients.length >= p.maxRcpt) return reply(s, `452 4.5.3 too many recipients (limit ${p.maxRcpt} a message)`);
  if (p.rcptCheck) return { session: { ...s, pendingDsn: d.value }, replies: [], effect: { kind: "rcpt", addr: full } };
  return reply(addRecipient(s, full, d.value), "250 2.1.5 ok");
}

/** Why this recipient is refused (null: accepted). No routing trick gets past a client without relay rights. */
function relayRefusal(s: Session, addr: string, p: Policy): string | null {
  const { local, domain } = splitAddress(addr);
  if (!s.utf8 && /[\x80-\xff]/.test(addr)) return "553 5.6.7 non-ASCII recipient address requires SMTPUTF8";
  if (!isUtf8(addr)) return "553 5.6.7 recipient address is not valid UTF-8";
  if (domain === null) return local.toLowerCase() === "postmaster" ? null : "553 5.1.3 recipient address must include a domain";
  const problem = domainProblem(domain, s.utf8);
  if (problem) return `553 5.1.2 bad recipient address: ${problem}`;
  if (s.relay !== null || s.user !== null) return null;
  const trick = routingTrick(local);
  if (trick) return `553 5.7.1 sorry, ${trick} is not accepted here (no relaying)`;
  if (!p.acceptsDomain(domain.toLowerCase())) return "553 5.7.1 sorry, that domain isn't in my list of allowed rcpthosts";
  return null;
}

function data(s: Session): Step {
  if (s.sender === null) return reply(s, "503 5.5.1 MAIL first");
  if (s.recipients.length === 0) return reply(s, "503 5.5.1 RCPT first");
  return { session: s, replies: ["354 go ahead, end with <CR><LF>.<CR><LF>"], effect: { kind: "data" } };
}

function starttls(s: Session, arg: string, p: Policy): Step {
  if (!p.tls) return unknown(s);
  if (s.tls) return reply(s, "503 5.5.1 TLS is already active");
  if (s.sender !== null) return reply(s, "503 5.5.1 STARTTLS is not allowed during a mail transaction: RSET first");
  if (arg !== "") return reply(s, "501 5.5.4 STARTTLS takes no arguments");
  return { session: s, replies: ["220 2.0.0 ready to start TLS"], effect: { kind: "starttls" } };
}

function auth(s: Session, arg: string, p: Policy): Step {
  if (!p.auth) return unknown(s);
  // before TLS nothing of the exchange is read: the initial response on this line is dropped unseen
  if (!s.tls) return authFailed(s, "538 5.7.11 encryption required: use STARTTLS first");
  if (s.user !== null) return reply(s, "503 5.5.1 already authenticated");
  if (s.sender !== null) return reply(s, "503 5.5.1 AUTH is not allowed during a mail transaction");
  return sasl(s, startSasl(arg));
}

function sasl(s: Session, st: SaslStep): Step {
  if (st.kind === "challenge") return reply({ ...s, sasl: st.sasl }, st.reply);
  const next = { ...s, sasl: null };
  if (st.kind === "fail") return authFailed(next, st.reply);
  return { session: next, replies: [], effect: { kind: "auth", mech: st.mech.toUpperCase(), user: st.user, pass: st.pass } };
}

/** An AUTH that did not succeed: counted; the tenth ends the session. */
function authFailed(s: Session, why: string): Step {
  const next = { ...s, authFailures: s.authFailures + 1 };
  if (next.authFailures < MAX_AUTH_FAILURES) return reply(next, why);
  return { session: next, replies: [why, "421 4.7.0 too many failed authentication attempts, closing"], effect: { kind: "quit" } };
}

function unknown(s: Session): Step {
  const errors = s.errors + 1;
  if (errors >= MAX_ERRORS) return { session: { ...s, errors }, replies: ["421 4.7.0 too many unrecognized commands, closing"], effect: { kind: "quit" } };
  return reply({ ...s, errors }, "502 5.5.1 unimplemented");
}

// A Map, not an object literal: a client that sends "constructor" must reach unknown().
const COMMANDS = new Map<string, Handler>([
  ["helo", (s, a, p) => helo(s, a, p, false)],
  ["ehlo", (s, a, p) => helo(s, a, p, true)],
  ["mail", mail],
  ["rcpt", rcpt],
  ["data", data],
  ["rset", (s) => junk(s, (t) => reply(reset(t), "250 2.0.0 flushed"))],
  ["noop", (s) => junk(s, (t) => reply(t, "250 2.0.0 ok"))],
  ["vrfy", (s) => junk(s, (t) => reply(t, "252 2.5.2 send some mail, I'll try my best"))],
  ["help", (s) => junk(s, (t) => reply(t, "214 2.0.0 qm smtpd: see man qm-smtpd"))],
  ["quit", (s, _a, p) => ({ session: s, replies: [`221 2.0.0 ${p.greeting}`], effect: { kind: "quit" } })],
  ["starttls", starttls],
  ["auth", auth],
]);

/** One command line (CR LF removed) -> the replies and the next state. */
export function step(s: Session, line: string, p: Policy): Step {
  if (s.sasl !== null) return sasl(s, answer(s.sasl, line));
  if (line.includes("\0")) return reply(s, "500 5.5.2 NUL byte in command");
  const sp = line.indexOf(" ");
  const verb = (sp < 0 ? line : line.slice(0, sp)).toLowerCase();
  const handler = COMMANDS.get(verb);
  return handler ? handler(s, sp < 0 ? "" : line.slice(sp + 1).replace(/^ +/, "").replace(/[ \t]+$/, ""), p) : unknown(s);
}

/** After the recipient lookup of a "rcpt" effect. */
export function rcptChecked(s: Session, addr: string, verdict: "ok" | "unknown" | "temp" | "full" | "full-temp"): Step {
  if (verdict === "ok") return reply(addRecipient(s, addr, s.pendingDsn), "250 2.1.5 ok");
  if (verdict === "unknown") return refuse(s, "550 5.1.1 sorry, no mailbox here by that name");
  if (verdict === "full") return refuse(s, "552 5.2.2 sorry, that mailbox is full");
  if (verdict === "full-temp") return reply(s, "452 4.2.2 that mailbox is full; try again later");
  return reply(s, "451 4.3.0 unable to check that recipient now; try again later");
}

/** A recipient refused by a check outside the machine (DNS lists, rate limits, greylisting): a 5xx counts toward MAX_REFUSED. */
export function rcptRefused(s: Session, line: string): Step {
  return line.startsWith("5") ? refuse(s, line) : reply(s, line);
}

/** After the password check of an "auth" effect. */
export function authChecked(s: Session, user: string, verdict: "ok" | "no" | "temp"): Step {
  if (verdict === "ok") return reply({ ...s, user }, "235 2.7.0 authentication successful");
  if (verdict === "no") return authFailed(s, "535 5.7.8 authentication failed");
  return authFailed(s, "454 4.7.0 temporary authentication failure; try again later");
}

/** After the TLS handshake: RFC 3207 forgets everything the client said before (the failed AUTHs still count). */
export function tlsStarted(s: Session): Session {
  return { ...startSession(s.relay, true), authFailures: s.authFailures };
}

/** After the data: the reply is the queue's verdict (or the decoder's); a new MAIL is needed. */
export function dataDone(s: Session, replyLine: string): Step {
  return reply(reset(s), replyLine);
}

/** The envelope the transaction queues: sender, recipients and their RFC 3461 parameters. */
export function sessionEnvelope(s: Session): Envelope {
  const dsn = envelopeDsn(s.dsn ?? {}, s.rcptDsn ?? new Map());
  return { sender: s.sender ?? "", recipients: s.recipients, ...(dsn ? { dsn } : {}) };
}
