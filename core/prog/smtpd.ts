import { Duplex } from "node:stream";
import type { SecureContext } from "node:tls";
import { toBytes } from "../lib/base/bytes.ts";
import { formatIP, parseIP } from "../lib/base/ip-addr.ts";
import { makePeer, type Peer } from "../lib/base/peer.ts";
import { refusedWhat, sessionLine, type Queued } from "../lib/base/session-log.ts";
import { parsePathArg } from "../lib/smtpd/address.ts";
import { describe, ok, perm, temp, type Result } from "../lib/base/result.ts";
import { MAX_AUTH_LINE } from "../lib/smtpd/auth.ts";
import { FailureWindow, failureDelayMs } from "../lib/smtpd/auth-limits.ts";
import { DEFAULT_LIMITS, fatalReply, feedData, problemReply, startData, type DataLimits } from "../lib/smtpd/data.ts";
import type { SmtpMode } from "../lib/smtpd/listen.ts";
import { acceptsDomain, inBadMailFrom, senderAllowed } from "../lib/smtpd/policy.ts";
import { protocolName, receivedLine } from "../lib/smtpd/received.ts";
import { authChecked, dataDone, sessionEnvelope, startSession, step, tlsStarted, type Policy, type Session, type Step } from "../lib/smtpd/session.ts";
import { checkAuth } from "../io/smtpd/auth-check.ts";
import { live, makeRoom, setTimeoutBusy } from "../io/smtpd/busy.ts";
import { log } from "../io/base/log.ts";
import { submit } from "../io/queue/submit.ts";
import { checkRecipient } from "../io/smtpd/rcpt-check.ts";
import { cachedControls, readServerCert, readSmtpControls, SMTPD_FILES, type SmtpControls } from "../io/smtpd/controls.ts";
import { queueSpace } from "../io/smtpd/space.ts";
import { tlsContext, watchCert } from "../io/smtpd/cert.ts";
import { localAddresses, serve, type Listener } from "../io/base/listener.ts";
import { acceptTls, SmtpConn } from "../io/smtpd/conn.ts";
import { loadInboundCheck, MAX_HELD, type InboundCheck, type SenderCheck } from "../io/dkim/inbound.ts";
import { openGuard } from "../io/smtpd/guard.ts";
import { prepareGreylistDir } from "../io/smtpd/greylist-store.ts";
import { filterStep, SessionFilters, type Filtered } from "../io/smtpd/filters.ts";

/**
 * qm smtpd (man qm-smtpd(8)): qmail-smtpd's sessions, either one on
 * stdin/stdout under tcpserver or inetd, or many in one process behind
 * `--listen`. Messages go into the queue in-process through submit();
 * 250 after the final dot means the queue has the message on disk. The mode
 * is port 25's policy (smtp), submission (RFC 6409: STARTTLS and AUTH before
 * MAIL) or smtps (submission with TLS from the first byte, RFC 8314).
 */
export type { Peer } from "../lib/base/peer.ts";

interface Deps {
  readonly home: string;
  readonly controls: () => Promise<Result<SmtpControls>>;
  /** The STARTTLS context for a session starting now (null: no STARTTLS). */
  readonly tls: () => SecureContext | null;
  readonly myIPs: ReadonlySet<string>;
  readonly queueHasRoom: (need: number) => boolean;
  readonly mode: SmtpMode;
  /** control/authpolicy's checks (qm-smtpd(8), "Authentication checks"); null: none. */
  readonly inbound: (me: string) => Promise<Result<InboundCheck | null>>;
  /**
   * Refuse a client that sends message data before the 354: the listener
   * only. In inetd mode fd 0 may be tcpserver's socket or a local program's
   * pipe (node's pipes are socket pairs too), and transcripts piped in are
   * legitimate there.
   */
  readonly earlyTalkers: boolean;
}

/** What the checks of control/authpolicy know of the current transaction. */
interface Checking {
  readonly checker: InboundCheck;
  readonly from: SenderCheck;
  readonly ip: string;
}

/** RFC 5321 asks for 512; a little room for long parameter lists. */
export const MAX_COMMAND = 4096;
/** `AUTH PLAIN` with RFC 4954's 12 288-byte initial response. */
const MAX_AUTH_COMMAND = "AUTH PLAIN ".length + MAX_AUTH_LINE;

function policyFor(c: SmtpControls, peer: Peer, deps: Deps, tls: SecureContext | null): Policy {
  const mine = new Set(deps.myIPs);
  const local = parseIP(peer.localIP);
  if (local) mine.add(formatIP(local));
  return {
    greeting: c.greeting,
    localiphost: c.localiphost,
    databytes: peer.databytes ?? c.databytes,
    maxRcpt: c.maxRcpt,
    tls: tls !== null,
    auth: c.checkpassword !== null || c.dovecotauth !== null || c.virtualauth,
    submission: deps.mode !== "smtp",
    senderLogin: (user, sender) => senderAllowed(c.senderlogins, user, sender),
    rcptCheck: true, // every RCPT comes back as an effect: runSession's checks (guard.ts) and the lookup (when rcptcheck is on)
    acceptsDomain: (d) => acceptsDomain(d, c.rcpthosts, c.mrh),
    isMyIP: (ip) => mine.has(formatIP(ip)),
    badMailFrom: (a) => inBadMailFrom(a, c.badmailfrom),
    queueHasRoom: () => deps.queueHasRoom(c.queuefree),
  };
}

let sessions = 0;
/** Failed AUTHs per client address over the last hour, shared by this listener's sessions. */
const authWindow = new FailureWindow();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One whole session on `sock`. Never throws for anything the client sends. */
export async function runSession(sock: Duplex, peer: Peer, deps: Deps): Promise<void> {
  const done: (() => void)[] = [];
  try {
    await oneSession(sock, peer, deps, done);
  } finally {
    for (const f of done) f(); // the policy servers' and milters' connections end with the session
  }
}

async function oneSession(sock: Duplex, peer: Peer, deps: Deps, done: (() => void)[]): Promise<void> {
  const sid = `${process.pid}.${++sessions}`;
  const ip = peer.remoteIP;
  log.info(sessionLine.connect("smtpd", sid, peer));
  const controls = await deps.controls();
  const tlsCtx = deps.tls(); // one certificate for the whole session: the one in force when it began
  let conn: SmtpConn;
  if (deps.mode === "smtps") {
    // TLS from the first byte: nothing is said in clear, not even the greeting
    const tls = tlsCtx && (await acceptTls(sock, tlsCtx, (controls.kind === "ok" ? controls.value.timeout : 1200) * 1000));
    if (!tls) {
      log.info(sessionLine.dropped("smtpd", sid, ip, "TLS handshake failed"));
      sock.destroy();
      return;
    }
    log.info(sessionLine.tls(sid, ip, tls.getProtocol() ?? "unknown", tls.getCipher()?.name ?? "unknown"));
    conn = new SmtpConn(tls, 1_200_000, live);
  } else conn = new SmtpConn(sock, 1_200_000, live);
  if (controls.kind !== "ok") {
    log.error(`smtpd: ${describe(controls)}`);
    conn.reply(["421 4.3.0 unable to read controls"]);
    log.info(sessionLine.dropped("smtpd", sid, ip, "421 4.3.0 unable to read controls"));
    return conn.close();
  }
  const c = controls.value;
  setTimeoutBusy(c.timeoutbusy);
  const inbound = await deps.inbound(c.me);
  if (inbound.kind !== "ok") {
    log.error(`smtpd: ${describe(inbound)}`);
    conn.reply(["421 4.3.0 unable to read controls"]);
    log.info(sessionLine.dropped("smtpd", sid, ip, "421 4.3.0 unable to read controls"));
    return conn.close();
  }
  const checker = inbound.value;
  let checking: Checking | null = null;
  const p = policyFor(c, peer, deps, tlsCtx);
  conn.timeoutMs = c.timeout * 1000;
  const guard = openGuard({ home: deps.home, sid, peer, mode: deps.mode, defences: c.defences, log: (l) => log.info(l), warn: (l) => log.warn(l) });
  const unwelcome = await guard.connect(conn); // connection rate, greet delay, pregreet; starts the DNS list lookups
  if (unwelcome) {
    conn.reply([unwelcome]);
    log.info(sessionLine.dropped("smtpd", sid, ip, unwelcome));
    return conn.close();
  }
  const filters = new SessionFilters(c, { sid, me: c.me, peer, tls: () => conn.tlsInfo, log: (level, line) => log[level](line) });
  done.push(() => filters.close());
  const refusedAtConnect = await filters.connect();
  if (refusedAtConnect) {
    conn.reply(refusedAtConnect);
    log.info(sessionLine.dropped("smtpd", sid, ip, refusedAtConnect[0]!));
    return conn.close();
  }
  conn.reply([`220 ${c.greeting} ESMTP`]);
  let s = startSession(peer.relay, conn.tls);
  /** Says and logs the replies; a refusal (4xx, 5xx) gets its line. */
  const answer = (replies: readonly string[], line: string | null, inSasl: boolean, t: Session = s) => {
    conn.reply(replies);
    const first = replies[0];
    const saslUser = inSasl && t.sasl?.mech === "login" ? t.sasl.user : null;
    if (first !== undefined && /^[45]/.test(first)) log.info(sessionLine.refused("smtpd", sid, ip, refusedWhat(line, inSasl, t, pathAddress, saslUser), first));
  };
  /** The end after too many failed AUTHs: the 421 that follows the last failure's reply. */
  const tooManyFailures = (r: Step) => {
    const last = r.replies[r.replies.length - 1];
    if (r.effect?.kind === "quit" && r.replies.length > 1 && last?.startsWith("421")) log.info(sessionLine.dropped("smtpd", sid, ip, last));
  };
  for (;;) {
    const got = await conn.readLine(s.sasl !== null ? MAX_AUTH_LINE : MAX_AUTH_COMMAND, c.timeoutcommand > 0 ? c.timeoutcommand * 1000 : Infinity);
    if (got.kind === "eof") return conn.close();
    if (got.kind === "timeout" || got.kind === "deadline") {
      const line = conn.kicked ?? (got.kind === "deadline" ? `421 4.4.2 command not finished within ${c.timeoutcommand} s (timeoutcommand), closing connection` : "421 4.4.2 timeout, closing connection");
      conn.reply([line]);
      log.info(sessionLine.dropped("smtpd", sid, ip, conn.kicked || got.kind === "deadline" ? line : "421 4.4.2 timeout"));
      return conn.close();
    }
    if (got.kind === "toolong") {
      answer([`500 5.5.2 line too long (limit ${s.sasl !== null ? MAX_AUTH_LINE : MAX_COMMAND} bytes)`], null, s.sasl !== null);
      continue;
    }
    if (s.sasl === null && got.line.length > MAX_COMMAND && !/^auth /i.test(got.line)) {
      answer([`500 5.5.2 line too long (limit ${MAX_COMMAND} bytes)`], null, false);
      continue;
    }
    const before = s;
    const r = filters.active ? await filterStep(filters, s, step(s, got.line, p), got.line) : step(s, got.line, p);
    s = r.session;
    let replies = r.replies;
    if (before.sender === null && s.sender !== null) {
      // MAIL accepted: SPF, unless the client authenticated or has RELAYCLIENT
      checking = null;
      const over = guard.mail(s); // the message rate
      if (over) ({ session: s, replies } = dataDone(s, over));
      else if (checker && s.user === null && s.relay === null) {
        const from = await checker.sender({ ip, helo: s.helo, sender: s.sender });
        checking = { checker, from, ip };
        if (from.refuse) ({ session: s, replies } = dataDone(s, from.refuse)); // the transaction ends before it starts
      }
    }
    answer(replies, got.line, before.sasl !== null, before);
    const e = r.effect;
    if (!e) continue;
    if (e.kind === "quit") {
      tooManyFailures(r);
      return conn.close();
    }
    if (e.kind === "rcpt") {
      const lookup = peer.rcptCheck ?? c.rcptCheck;
      const next = await filterStep(filters, s, await guard.rcpt(s, e.addr, async () => (lookup ? checkRecipient(deps.home, e.addr, c.rules) : "ok")), "");
      answer(next.replies, got.line, false, s);
      s = next.session;
    } else if (e.kind === "auth") {
      if (c.authfailures > 0 && authWindow.count(ip, Date.now()) >= c.authfailures) {
        const line = `421 4.7.0 too many failed authentication attempts from your address in the last hour; try again later`;
        conn.reply([line]);
        log.info(sessionLine.dropped("smtpd", sid, ip, line));
        return conn.close();
      }
      const { via, verdict } = await checkAuth(deps.home, c, e.user, e.pass, peer, conn.tls);
      if (verdict.kind === "temp") log.warn(`smtpd: warning: ${sid} auth ${via}: ${verdict.reason}`);
      const user = verdict.kind === "ok" ? (verdict.user ?? e.user) : e.user;
      log.info(sessionLine.auth(sid, ip, verdict.kind === "ok" ? "ok" : verdict.kind === "no" ? "failed" : "tempfail", user, e.mech, via));
      const next = authChecked(s, user, verdict.kind);
      s = next.session;
      if (verdict.kind === "no") {
        authWindow.note(ip, Date.now());
        await sleep(failureDelayMs(next.session.authFailures, c.authdelay)); // guessing gets slower with each miss
      }
      conn.reply(next.replies);
      if (next.effect?.kind === "quit") {
        tooManyFailures(next);
        return conn.close();
      }
    } else if (e.kind === "starttls") {
      if (!tlsCtx || !(await conn.startTls(tlsCtx))) {
        log.info(sessionLine.dropped("smtpd", sid, ip, "TLS handshake failed"));
        return;
      }
      const tls = conn.tlsInfo;
      log.info(sessionLine.starttls(sid, ip, tls?.protocol ?? "unknown", tls?.cipher ?? "unknown"));
      s = tlsStarted(s);
    } else {
      if (deps.earlyTalkers && conn.hasInput) {
        // RFC 2920 §3.1: DATA ends a pipelined group; the message must wait for the 354 (Postfix: "improper command pipelining after DATA")
        const line = "554 5.5.0 message data sent before the 354 reply (improper pipelining after DATA), closing connection";
        conn.discard("354");
        conn.reply([line]);
        log.info(sessionLine.dropped("smtpd", sid, ip, line));
        return conn.close();
      }
      const limits: DataLimits = { ...DEFAULT_LIMITS, databytes: p.databytes };
      const out = await receiveData(conn, s, peer, deps.home, limits, checking, c.mindatarate, filters);
      checking = null;
      if (out === null) {
        log.info(sessionLine.dropped("smtpd", sid, ip, "connection lost in DATA"));
        return conn.close();
      }
      if (out.close && out.reply.startsWith("421")) {
        conn.reply([out.reply]);
        log.info(sessionLine.dropped("smtpd", sid, ip, out.reply));
        return conn.close();
      }
      if (out.queued) log.info(sessionLine.accepted("smtpd", sid, ip, out.queued, s.sender ?? "", s.recipients.length, s.user));
      const next = dataDone(s, out.reply);
      answer(next.replies, "DATA", false, s);
      s = next.session;
      if (out.close) return conn.close();
    }
  }
}

/** A MAIL FROM/RCPT TO argument's address, for the log; null when it does not parse. */
function pathAddress(arg: string, key: "FROM" | "TO"): string | null {
  const parsed = parsePathArg(arg, key);
  return parsed.ok ? parsed.value.addr : null;
}

const BATCH = 64 * 1024;

/** DATA: decode, stream into the queue, and say what happened; null when the client vanished. */
async function receiveData(conn: SmtpConn, s: Session, peer: Peer, home: string, limits: DataLimits, checking: Checking | null, minRate: SmtpControls["mindatarate"], filters: SessionFilters): Promise<{ reply: string; close: boolean; queued?: Queued } | null> {
  const d = startData(limits);
  let lost: "eof" | "timeout" | "slow" | null = null;
  // control/mindatarate: after the grace window, the data must keep up with RATE bytes a second since the 354
  const began = Date.now();
  let got = 0;
  let sinceMark = 0;
  conn.progress(true);
  const pull = async (): Promise<Uint8Array | null> => {
    if (minRate.rate > 0) conn.deadline = began + minRate.window * 1000 + (got / minRate.rate) * 1000;
    const chunk = await conn.nextChunk();
    if (chunk === null || chunk === "timeout") {
      lost = chunk === null ? "eof" : conn.kicked === null && conn.pastDeadline ? "slow" : "timeout";
      d.done = true;
      return null;
    }
    got += chunk.length;
    sinceMark += chunk.length;
    if (sinceMark >= BATCH) {
      sinceMark = 0;
      conn.progress(true); // a block of data is progress: not a stalled session
    }
    const fed = feedData(d, chunk);
    conn.unread(chunk.subarray(fed.used));
    if (d.done) conn.progress(false); // after the final dot the client waits on us (the checks, the milters), not we on it
    return fed.out;
  };
  // who authenticated stands where qmail puts TCPREMOTEINFO: (user@ip), as qmail's AUTH patches write it
  const received = toBytes(receivedLine({ ...peer, remoteInfo: s.user ?? peer.remoteInfo, helo: s.helo, protocol: protocolName(s.esmtp, conn.tls, s.user !== null, s.utf8) }, Date.now()));
  const authChecked = checking ? await checkData(checking, pull, d, received) : { first: [received], refuse: null };
  const checked: Filtered | { first: Uint8Array[]; refuse: string | null } = filters.active && authChecked.refuse === null ? await filters.message(authChecked.first, pull, d, s) : authChecked;
  async function* body(): AsyncGenerator<Uint8Array> {
    let batch: Uint8Array[] = [...checked.first];
    let size = batch.reduce((n, b) => n + b.length, 0);
    while (!d.done) {
      const out = await pull();
      if (d.problem || d.fatal || lost) throw new Error("message refused");
      if (out && out.length > 0) {
        batch.push(out);
        size += out.length;
      }
      if (size >= BATCH || d.done) {
        yield batch.length === 1 ? batch[0]! : Buffer.concat(batch);
        batch = [];
        size = 0;
      }
    }
    if (batch.length > 0) yield Buffer.concat(batch); // the checks held the whole message
  }
  const held = d.problem !== null || d.fatal !== null || lost !== null || checked.refuse !== null; // found while holding it for the checks
  const asGiven = sessionEnvelope(s); // with the RFC 3461 parameters, which stay with the recipients they came with
  const envelope = "envelope" in checked ? { ...checked.envelope, ...(asGiven.dsn ? { dsn: asGiven.dsn } : {}) } : asGiven; // the milters may change it
  const queued = held ? null : await submit(home, body(), envelope, { who: { kind: "network" } });
  while (!d.done) await pull(); // the queue gave up early: read on to the final dot
  conn.deadline = null;
  conn.progress(false);
  if (conn.kicked) return { reply: conn.kicked, close: true };
  if (lost === "slow") return { reply: `421 4.4.2 message data slower than ${minRate.rate} bytes a second (mindatarate), closing connection`, close: true };
  if (lost === "timeout") return { reply: "421 4.4.2 timeout, closing connection", close: true };
  if (lost) return null;
  if (d.fatal) return { reply: fatalReply(d.fatal), close: true };
  if (d.problem) return { reply: problemReply(d.problem, limits), close: false };
  if (queued === null) return { reply: checked.refuse ?? "451 4.3.0 message not queued", close: false };
  if (queued.kind !== "ok") {
    log.error(`smtpd: queue failure for ${peer.remoteIP}: ${describe(queued)}`);
    return { reply: `${queued.kind === "perm" ? "554" : "451"} ${queued.status} ${queued.reason}`, close: false };
  }
  const q = queuedAs(queued.value);
  const msg = "id" in q ? ` msg ${q.id}` : "";
  return { reply: `250 2.0.0 ok ${Math.floor(Date.now() / 1000)} qp ${queued.value.qp}${msg}`, close: false, queued: q };
}

/**
 * control/authpolicy's checks after DATA: the message is held (up to
 * MAX_HELD) so that the Authentication-Results field can go on top, above
 * our Received line (RFC 8601 §5), and forged ones can come out. Returns
 * what goes into the queue first, or the refusal; a larger message goes in
 * with the SPF results only, the rest streaming after what was held.
 */
async function checkData(c: Checking, pull: () => Promise<Uint8Array | null>, d: { done: boolean; problem: unknown; fatal: unknown }, received: Uint8Array): Promise<{ first: Uint8Array[]; refuse: string | null }> {
  const held: Uint8Array[] = [];
  let size = 0;
  while (!d.done && size <= MAX_HELD) {
    const out = await pull();
    if (d.problem || d.fatal || out === null) return { first: [], refuse: null };
    held.push(out);
    size += out.length;
  }
  const all = Buffer.concat(held);
  if (!d.done) {
    const u = c.checker.unchecked(all, c.from);
    return { first: [toBytes(u.field), received, u.head], refuse: null };
  }
  const v = await c.checker.message(all, c.from, c.ip);
  return v.refuse ? { first: [], refuse: v.refuse } : { first: [toBytes(v.field), received, v.message], refuse: null };
}

/** submit()'s answer as the log names it: the queue id when this process queued the message itself. */
function queuedAs(v: { qp: number; id?: number; maildrop?: string }): Queued {
  return v.id !== undefined ? { id: v.id } : v.maildrop !== undefined ? { maildrop: v.maildrop } : { qp: v.qp };
}

/** inetd/tcpserver mode: one session on fds 0 and 1. */
export async function smtpdInetd(home: string, env: NodeJS.ProcessEnv, mode: SmtpMode = "smtp"): Promise<Result<void>> {
  const cert = await readServerCert(home);
  const tls = tlsContext(cert.kind === "ok" ? cert.value : null);
  if (tls.kind !== "ok") log.warn(`smtpd: ${describe(tls)}; STARTTLS is off`);
  const context = tls.kind === "ok" ? tls.value : null;
  if (mode === "smtps" && context === null) return temp("--tls-wrapper needs control/servercert.pem: TLS comes first", "4.3.0");
  const sock = Duplex.from({ readable: process.stdin, writable: process.stdout });
  await runSession(sock, makePeer((k) => env[k]), { home, controls: () => readSmtpControls(home), tls: () => context, myIPs: localAddresses(), queueHasRoom: queueSpace(home), mode, inbound: (me) => loadInboundCheck(home, me), earlyTalkers: false });
  return ok(undefined);
}

export interface ListenConfig {
  readonly mode: SmtpMode;
  readonly listen: readonly string[];
  readonly maxSessions: number;
  readonly maxPerIP: number;
  readonly user: string; // account to run as when started as root
  readonly rulesFile: string; // control/<name>
  readonly ready?: (l: Listener) => void;
}

/**
 * Listener mode: bind, drop to the smtpd user, serve until SIGTERM/SIGINT.
 * The control files are read for each session (at most once a second), and
 * at once after SIGHUP; control/servercert.pem is looked at for each session.
 */
export async function smtpdListen(home: string, cfg: ListenConfig): Promise<Result<void>> {
  const cert = watchCert(home, (line) => log.info(line));
  if (cert.kind !== "ok") return cert;
  if (cfg.mode !== "smtp" && cert.value.current() === null) return perm(`${cfg.mode === "smtps" ? "--tls-wrapper" : "--submission"} needs control/servercert.pem: TLS comes before AUTH`, "5.3.5");
  const grey = await prepareGreylistDir(home, cfg.user); // greylisting's store, the listener user's (control/greylist may appear later)
  if (grey.kind !== "ok") log.warn(`smtpd: warning: ${grey.reason}; greylisting will accept everyone`);
  const controls = cachedControls(home);
  const deps: Deps = { home, controls: controls.get, tls: () => cert.value.current(), myIPs: localAddresses(), queueHasRoom: queueSpace(home), mode: cfg.mode, inbound: (me) => loadInboundCheck(home, me), earlyTalkers: true };
  return serve({
    name: "smtpd",
    home,
    controls: SMTPD_FILES,
    reload: () => {
      controls.drop();
      cert.value.current();
    },
    listen: cfg.listen,
    rulesFile: cfg.rulesFile,
    missingRules: "",
    brokenRules: "keep",
    maxSessions: cfg.maxSessions,
    maxPerIP: cfg.maxPerIP,
    user: cfg.user,
    log: (line) => log.info(line),
    ready: cfg.ready,
    detail: `mode ${cfg.mode} max ${cfg.maxSessions} max-per-ip ${cfg.maxPerIP} rules ${cfg.rulesFile}`,
    makeRoom: () => makeRoom(),
    session: (sock, info) => runSession(sock, makePeer((k) => info.env.get(k), info), deps),
  });
}
