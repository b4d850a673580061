import {
  droppedRecord, hostRecord, MESSAGE, recipientRecord, remoteSaid, type Record,
} from "../../lib/remote/report.ts";
import { chooseMechanism, loginResponses, plainResponse, type Credentials } from "../../lib/remote/smtp-auth.ts";
import { createDotStuffer, ehloKeywords, quoteAddress, replyClass, safeForCommand, type Reply } from "../../lib/remote/smtp-wire.ts";
import { certificateNames, dnsNamesOf } from "../../lib/tls/names.ts";
import type { Tlsa } from "../../lib/tls/dane.ts";
import { checkDane } from "../tls/dane.ts";
import type { SmtpConn, TlsInfo, TlsResult } from "./smtp-conn.ts";
import { encodeXtext, wants, type MessageDsn } from "../../lib/queue/dsn.ts";
import { RELAYED_NOTE } from "../../lib/send/spawn-wire.ts";

// The SMTP client dialogue (docs/qmail.md §5.4, with what modern peers expect):
// EHLO (HELO when refused), STARTTLS when offered, AUTH to a relay with
// credentials (only over TLS), PIPELINING, 8BITMIME, SIZE and DSN when offered,
// then qmail-remote's records.

export type TlsPolicy = "may" | "must" | "never";

export interface Transaction {
  readonly helo: string;
  readonly sender: string;
  readonly recipients: readonly string[];
  /** RFC 3461 parameters the message came with (queue/dsn/): passed on when the server offers DSN. */
  readonly dsn?: MessageDsn;
  /** The message as stored (LF line ends); read once, only after DATA is accepted. */
  readonly message: () => AsyncIterable<Uint8Array>;
  /** Bytes, when known (SIZE=). */
  readonly size?: number;
}

export interface Outcome {
  readonly records: readonly Record[];
  /** Nothing was sent: the caller may try the next address (4xx/5xx greeting). */
  readonly next?: boolean;
  /** The TLS handshake failed: with policy "may" the caller may retry this address without TLS. */
  readonly tlsFailed?: boolean;
  /** A reused connection was gone before the server took MAIL: nothing happened, try a fresh one. */
  readonly stale?: boolean;
  /** A new session's TLS outcome for TLS-RPT; absent when no STARTTLS decision was reached, or the connection was reused. */
  readonly tlsResult?: TlsResult;
}

/** A cached connection (core/io/remote/smtp-pool.ts). */
export interface Reuse {
  /** EHLO keywords of an open, greeted connection: greeting and EHLO are skipped. */
  readonly keys?: Map<string, string>;
  /** Offered the connection after a transaction the server accepted; true: kept open (no QUIT). */
  readonly park?: (keys: Map<string, string>) => boolean;
}

export interface Peer {
  readonly ip: string;
  readonly name: string;
  readonly tls: TlsPolicy;
  /** control/smtpauth's credentials for this relay: sent only over TLS (tls is then "must"). */
  readonly auth?: Credentials;
  /**
   * Check the certificate against `name`: "ca" (control/tlspolicy verify)
   * and "sts" (an MTA-STS policy in enforce mode) refuse a peer that fails;
   * "sts-testing" only says so in the result text; "dane" checks it against
   * `tlsa` (RFC 7672). Absent: not checked.
   */
  readonly verify?: "ca" | "sts" | "sts-testing" | "dane";
  /** The host's usable TLSA records, for verify "dane". */
  readonly tlsa?: readonly Tlsa[];
  /** The trusted CAs: the system's plus control/tlsca. */
  readonly ca?: readonly string[];
  /** What asks for TLS, for the texts ("which control/tlspolicy asks for"). */
  readonly why?: string;
}

/**
 * Why the certificate in `info` fails `peer.verify`, or null when it
 * passes (then conn.verifiedBy says how). "sts-testing" never fails: its
 * finding goes into conn.verifiedBy.
 */
export function checkPeer(conn: SmtpConn, info: TlsInfo, peer: Peer): string | null {
  conn.tlsResult = { ok: true };
  if (!peer.verify) return null;
  if (peer.verify === "dane") {
    const bad = checkDane(info.chain, peer.tlsa ?? [], peer.name, Date.now());
    if (bad) conn.tlsResult = { ok: false, type: bad.type };
    else conn.verifiedBy = "dane";
    return bad?.reason ?? null;
  }
  const rule = peer.verify === "sts-testing" ? "sts" : peer.verify;
  let why: string | null = null;
  if (!info.chainOk) {
    why = `its certificate is not trusted (${info.chainError})`;
    conn.tlsResult = { ok: false, type: /EXPIRED|NOT_YET_VALID/.test(info.chainError ?? "") ? "certificate-expired" : "certificate-not-trusted" };
  } else if (!certificateNames(peer.name, dnsNamesOf(info.subjectAltName), info.commonName)) {
    why = `its certificate does not name ${peer.name.replace(/[^\x21-\x7e]/g, "?")}`;
    conn.tlsResult = { ok: false, type: "certificate-host-mismatch" };
  }
  if (why === null) {
    conn.verifiedBy = rule;
    return null;
  }
  if (peer.verify === "sts-testing") {
    conn.verifiedBy = `none (MTA-STS testing mode: ${why})`;
    return null;
  }
  return why;
}

/** The TLS facts for a result text: "tls=none", or "tls=TLSv1.3 cipher=... verified=ca". */
export function tlsFacts(conn: SmtpConn): string {
  const t = conn.tls;
  return t ? `tls=${t.version} cipher=${t.cipher} verified=${conn.verifiedBy}` : "tls=none";
}

/** The outcome with the TLS facts added to its message record (K, Z or D). */
function withTls(conn: SmtpConn, o: Outcome, reused = false): Outcome {
  const result = !reused && conn.tlsResult ? { tlsResult: conn.tlsResult } : {};
  const last = o.records.at(-1);
  if (!last || !"KZD".includes(last.letter)) return { ...o, ...result };
  return { ...o, ...result, records: [...o.records.slice(0, -1), { letter: last.letter, text: `${last.text}${tlsFacts(conn)}\n` }] };
}

type Said = { reply: Reply } | { outcome: Outcome };

function quit(conn: SmtpConn, letter: "K" | "Z" | "D", prefix: string, ip: string, suffix: string, reply: Reply | null, extra: Record[] = []): Outcome {
  conn.quit();
  return { records: [...extra, hostRecord(letter, prefix, ip, suffix, reply)] };
}
function died(conn: SmtpConn, ip: string, critical = false, extra: Record[] = []): Outcome {
  conn.abort();
  return { records: [...extra, droppedRecord(ip, critical)] };
}
async function command(conn: SmtpConn, line: string, ip: string): Promise<Said> {
  if (!(await conn.write(`${line}\r\n`))) return { outcome: died(conn, ip) };
  const reply = await conn.readReply();
  return reply ? { reply } : { outcome: died(conn, ip) };
}

/** Greeting, EHLO/HELO and STARTTLS; the peer's EHLO keywords, or how it ended. */
async function hello(conn: SmtpConn, tx: Transaction, peer: Peer): Promise<{ keys: Map<string, string> } | { outcome: Outcome }> {
  const greeting = await conn.readReply();
  if (!greeting) return { outcome: died(conn, peer.ip) };
  if (greeting.code !== 220) {
    const o = quit(conn, greeting.code >= 500 ? "D" : "Z", "Connected to ", peer.ip, " but greeting failed", greeting);
    return { outcome: { ...o, next: true } };
  }
  let keys = await ehlo(conn, tx.helo, peer.ip);
  if ("outcome" in keys) return keys;
  if (peer.tls === "never" || conn.encrypted) return keys;
  const noTls: TlsResult = { ok: false, type: "starttls-not-supported" };
  if (!keys.keys.has("STARTTLS")) {
    conn.tlsResult = noTls;
    if (peer.tls !== "must") return keys;
    return { outcome: quit(conn, "Z", "Connected to ", peer.ip, ` but it does not offer STARTTLS, ${mustWhy(peer)}`, null) };
  }
  const said = await command(conn, "STARTTLS", peer.ip);
  if ("outcome" in said) return said;
  if (said.reply.code !== 220) {
    conn.tlsResult = noTls;
    if (peer.tls !== "must") return keys;
    return { outcome: quit(conn, "Z", "Connected to ", peer.ip, ` but STARTTLS was refused, ${mustWhy(peer)}`, said.reply) };
  }
  const info = await conn.startTls({ servername: peer.name, ca: peer.ca });
  if (!info) {
    conn.tlsResult = { ok: false, type: "validation-failure" };
    const why = peer.auth ? ", so I did not send the password from control/smtpauth" : "";
    return { outcome: { records: [hostRecord("Z", "Connected to ", peer.ip, ` but the TLS handshake failed${why}`, null)], tlsFailed: true } };
  }
  const bad = checkPeer(conn, info, peer);
  if (bad) return { outcome: quit(conn, "Z", "Connected to ", peer.ip, ` but ${bad}, ${verifyWhy(peer)}`, null) };
  keys = await ehlo(conn, tx.helo, peer.ip);
  return keys;
}

function mustWhy(peer: Peer): string {
  if (peer.auth) return "and I send the password from control/smtpauth only over TLS";
  return peer.why ?? "which control/tlsrequired asks for";
}

function verifyWhy(peer: Peer): string {
  return peer.why ?? "and control/tlspolicy asks for a verified certificate";
}

/**
 * RFC 4954 with control/smtpauth's credentials: PLAIN with an initial
 * response, else LOGIN. null when the relay took them; 5xx (535: bad user
 * name or password) is permanent, anything else temporary.
 */
async function authenticate(conn: SmtpConn, keys: Map<string, string>, ip: string, c: Credentials): Promise<Outcome | null> {
  // the texts reach bounces: they name neither the user nor the password
  if (!conn.encrypted) return quit(conn, "Z", "Connected to ", ip, " but the connection is not encrypted, and I send the password from control/smtpauth only over TLS", null);
  const mech = chooseMechanism(keys.get("AUTH"));
  if (!mech) {
    const offered = keys.has("AUTH") ? "neither AUTH PLAIN nor AUTH LOGIN" : "no AUTH";
    return quit(conn, "Z", "Connected to ", ip, ` but it offers ${offered}, and control/smtpauth has a password for it`, null);
  }
  const steps = mech === "PLAIN" ? [`AUTH PLAIN ${plainResponse(c)}`] : ["AUTH LOGIN", ...loginResponses(c)];
  let reply: Reply | null = null;
  for (const line of steps) {
    if (reply && reply.code !== 334) break;
    const said = await command(conn, line, ip);
    if ("outcome" in said) return said.outcome;
    reply = said.reply;
  }
  if (reply!.code === 235) return null;
  if (reply!.code === 334) await conn.write("*\r\n"); // it wants more than PLAIN or LOGIN has: cancel (RFC 4954 §4)
  const letter = reply!.code >= 500 ? "D" : "Z";
  const why = reply!.code === 535 ? " (wrong user name or password?)" : "";
  return quit(conn, letter, "Connected to ", ip, ` but it refused AUTH ${mech} with the credentials from control/smtpauth${why}`, reply);
}

async function ehlo(conn: SmtpConn, helo: string, ip: string): Promise<{ keys: Map<string, string> } | { outcome: Outcome }> {
  const e = await command(conn, `EHLO ${helo}`, ip);
  if ("outcome" in e) return e;
  if (replyClass(e.reply.code) === "ok") return { keys: ehloKeywords(e.reply) };
  const h = await command(conn, `HELO ${helo}`, ip);
  if ("outcome" in h) return h;
  if (replyClass(h.reply.code) !== "ok") return { outcome: quit(conn, "Z", "Connected to ", ip, " but my name was rejected", h.reply) };
  return { keys: new Map() };
}

/**
 * MAIL, RCPT and DATA, pipelined when offered (RFC 2920: DATA ends the
 * group). The recipient records and, when pipelined, DATA's reply; or how
 * it ended.
 */
async function envelope(conn: SmtpConn, tx: Transaction, ip: string, keys: Map<string, string>, reused: boolean): Promise<{ recs: Record[]; dataReply: Reply | null } | { outcome: Outcome }> {
  const params = `${keys.has("8BITMIME") ? " BODY=8BITMIME" : ""}${keys.has("SIZE") && tx.size !== undefined ? ` SIZE=${tx.size}` : ""}`;
  const dsn = keys.has("DSN") ? tx.dsn : undefined;
  const mail = `MAIL FROM:<${quoteAddress(tx.sender)}>${params}${dsn ? mailDsnParams(dsn) : ""}`;
  const rcpts = tx.recipients.map((r) => `RCPT TO:<${quoteAddress(r)}>${dsn ? rcptDsnParams(dsn, r) : ""}`);
  const pipelined = keys.has("PIPELINING");
  const stale = { outcome: { records: [], stale: true } };
  if (pipelined && !(await conn.write([mail, ...rcpts, "DATA"].map((l) => `${l}\r\n`).join("")))) return reused ? (conn.abort(), stale) : { outcome: died(conn, ip) };
  const m = pipelined ? await conn.readReply() : await command(conn, mail, ip).then((s) => ("reply" in s ? s.reply : null));
  if (reused && (!m || m.code === 421)) return (conn.abort(), stale);
  if (!m) return { outcome: died(conn, ip) };
  if (m.code >= 400) return { outcome: quit(conn, m.code >= 500 ? "D" : "Z", "Connected to ", ip, " but sender was rejected", m) };
  const recs: Record[] = [];
  let last: Reply | null = null;
  for (const line of rcpts) {
    last = pipelined ? await conn.readReply() : await command(conn, line, ip).then((s) => ("reply" in s ? s.reply : null));
    if (!last) return { outcome: died(conn, ip, false, recs) };
    recs.push(recipientRecord(ip, last));
  }
  if (!recs.some((r) => r.letter === "r")) {
    if (!pipelined) return { outcome: quit(conn, "D", "Giving up on ", ip, "", last, recs) };
    const d = await conn.readReply(); // a server that says 354 with no recipient gets no message
    if (d && d.code === 354) conn.abort();
    return { outcome: quit(conn, "D", "Giving up on ", ip, "", last, recs) };
  }
  if (!pipelined) return { recs, dataReply: null };
  const d = await conn.readReply();
  if (!d) return { outcome: died(conn, ip, false, recs) };
  return { recs, dataReply: d };
}

/** RET= and ENVID= for a server that offers DSN (RFC 3461 §4.3, §4.4). */
function mailDsnParams(d: MessageDsn): string {
  return `${d.ret ? ` RET=${d.ret}` : ""}${d.envid !== undefined ? ` ENVID=${encodeXtext(d.envid)}` : ""}`;
}
/** NOTIFY= and ORCPT= of one recipient, as they came. */
function rcptDsnParams(d: MessageDsn, rcpt: string): string {
  const r = d.rcpts.get(rcpt);
  if (!r) return "";
  const n = r.notify === undefined ? "" : ` NOTIFY=${r.notify === "NEVER" ? "NEVER" : r.notify.join(",")}`;
  const semi = r.orcpt?.indexOf(";") ?? -1;
  const o = r.orcpt === undefined || semi < 1 ? "" : ` ORCPT=${r.orcpt.slice(0, semi)};${encodeXtext(r.orcpt.slice(semi + 1))}`;
  return n + o;
}

/** A server without DSN took a message some recipient wanted a success notice for: the report says so (the queue manager sends "relayed"). */
function relayedNote(o: Outcome, tx: Transaction, keys: Map<string, string>): Outcome {
  const last = o.records.at(-1);
  if (!tx.dsn || keys.has("DSN") || last?.letter !== "K" || !tx.recipients.some((r) => wants(tx.dsn!.rcpts.get(r), "SUCCESS"))) return o;
  return { ...o, records: [...o.records.slice(0, -1), { ...last, text: `${last.text}${RELAYED_NOTE}` }] };
}

/** DATA, the body, the final reply. */
async function data(conn: SmtpConn, tx: Transaction, ip: string, recs: Record[], dataReply: Reply | null, park: () => boolean): Promise<Outcome> {
  const d: Said = dataReply ? { reply: dataReply } : await command(conn, "DATA", ip);
  if ("outcome" in d) return { records: [...recs, ...d.outcome.records] };
  if (d.reply.code >= 400) return quit(conn, d.reply.code >= 500 ? "D" : "Z", "", ip, " failed on DATA command", d.reply, recs);
  const stuffer = createDotStuffer();
  for await (const chunk of tx.message()) {
    if (!(await conn.write(stuffer.push(chunk)))) return died(conn, ip, false, recs);
  }
  const tail = stuffer.end();
  if (!tail) {
    conn.abort();
    return { records: [...recs, MESSAGE.partialLine] };
  }
  if (!(await conn.write(tail))) return died(conn, ip, true, recs);
  const final = await conn.readReply();
  if (!final) return died(conn, ip, true, recs);
  if (final.code >= 400) return quit(conn, final.code >= 500 ? "D" : "Z", "", ip, " failed after I sent the message", final, recs);
  if (!park()) conn.quit();
  return { records: [...recs, { letter: "K", text: `${ip} accepted message.\n${remoteSaid(final)}` }] };
}

/** One SMTP session on an open connection: qmail-remote's records for it. */
export async function converse(conn: SmtpConn, tx: Transaction, peer: Peer, reuse: Reuse = {}): Promise<Outcome> {
  if (!safeForCommand(tx.sender)) {
    conn.quit();
    return { records: [MESSAGE.badSender] };
  }
  const bad = tx.recipients.find((r) => !safeForCommand(r));
  if (bad !== undefined) {
    conn.quit();
    return { records: [{ letter: "D", text: "Sorry, a recipient address contains CR, LF or NUL. (#5.1.3)\n" }] };
  }
  const reused = reuse.keys !== undefined;
  const h = reuse.keys ? { keys: reuse.keys } : await hello(conn, tx, peer);
  if ("outcome" in h) return withTls(conn, h.outcome);
  if (peer.auth && !reused) {
    const refused = await authenticate(conn, h.keys, peer.ip, peer.auth);
    if (refused) return withTls(conn, refused);
  }
  const env = await envelope(conn, tx, peer.ip, h.keys, reused);
  if ("outcome" in env) return env.outcome.stale ? env.outcome : withTls(conn, env.outcome, reused);
  return withTls(conn, relayedNote(await data(conn, tx, peer.ip, env.recs, env.dataReply, () => reuse.park?.(h.keys) ?? false), tx, h.keys), reused);
}
