import { connect as netConnect, type Socket } from "node:net";
import { dataOutcomes, rcptRefusal, stageFailure, targetName, type LmtpOutcome, type LmtpTarget } from "../../lib/remote/lmtp.ts";
import { remoteSaid } from "../../lib/remote/report.ts";
import { createDotStuffer, quoteAddress, safeForCommand, type Reply } from "../../lib/remote/smtp-wire.ts";
import { SmtpConn } from "./smtp-conn.ts";

// One LMTP transaction (RFC 2033) on a unix socket or TCP: LHLO, MAIL, one
// RCPT per recipient, DATA, then one reply per accepted recipient
// (core/lib/remote/lmtp.ts decides what they mean). Not pipelined: the
// server is near. Every failure to talk is temporary for every recipient
// still open; an outcome per recipient, in order, always.

export interface LmtpTransaction {
  readonly lhlo: string;
  readonly sender: string;
  readonly recipients: readonly string[];
  /** Bytes sent before the message (a Delivered-To line), LF line ends. */
  readonly head?: Uint8Array;
  /** The message as stored (LF line ends). */
  readonly message: () => AsyncIterable<Uint8Array>;
}

export interface LmtpTimeouts {
  readonly connectMs: number;
  readonly ioMs: number;
}

function open(t: LmtpTarget, ms: LmtpTimeouts): Promise<SmtpConn | string> {
  return new Promise((resolve) => {
    const sock: Socket = t.kind === "unix" ? netConnect({ path: t.path }) : netConnect({ host: t.host, port: t.port });
    const timer = setTimeout(() => fail("connect timed out"), ms.connectMs);
    const fail = (why: string): void => {
      clearTimeout(timer);
      sock.removeAllListeners("connect");
      sock.on("error", () => {});
      sock.destroy();
      resolve(why);
    };
    sock.once("error", (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
    sock.once("connect", () => {
      clearTimeout(timer);
      sock.removeAllListeners("error");
      resolve(new SmtpConn(sock, ms.ioMs));
    });
  });
}

export async function deliverLmtp(t: LmtpTarget, tx: LmtpTransaction, ms: LmtpTimeouts): Promise<LmtpOutcome[]> {
  const where = targetName(t);
  const all = (o: LmtpOutcome): LmtpOutcome[] => tx.recipients.map(() => o);
  if (!safeForCommand(tx.sender)) return all({ letter: "D", text: "Sorry, the sender address contains CR, LF or NUL. (#5.1.7)\n" });
  const conn = await open(t, ms);
  if (typeof conn === "string") return all({ letter: "Z", text: `Unable to connect to LMTP server ${where}: ${conn.replace(/[^\x20-\x7e]/g, "?")}. (#4.4.1)\n` });
  const lost = (stage: string): LmtpOutcome => ({ letter: "Z", text: `Connected to LMTP server ${where} but connection died ${stage}. (#4.4.2)\n` });
  const ask = async (line: string): Promise<Reply | null> => ((await conn.write(`${line}\r\n`)) ? conn.readReply() : null);
  try {
    const greeting = await conn.readReply();
    if (!greeting) return all(lost("before its greeting"));
    if (greeting.code !== 220) return all({ letter: "Z", text: `Connected to LMTP server ${where} but greeting failed.\n${remoteSaid(greeting)}(#4.4.2)\n` });
    const lhlo = await ask(`LHLO ${tx.lhlo}`);
    if (!lhlo) return all(lost("after LHLO"));
    if (lhlo.code !== 250) return all({ letter: "Z", text: `Connected to LMTP server ${where} but it refused LHLO.\n${remoteSaid(lhlo)}(#4.4.2)\n` });
    const mail = await ask(`MAIL FROM:<${quoteAddress(tx.sender)}>`);
    if (!mail) return all(lost("after MAIL"));
    const mailFail = stageFailure(where, "MAIL", mail, 250);
    if (mailFail) return all(mailFail);
    return await recipientsAndData(conn, tx, where, ask, lost);
  } finally {
    conn.abort();
  }
}

async function recipientsAndData(
  conn: SmtpConn, tx: LmtpTransaction, where: string,
  ask: (line: string) => Promise<Reply | null>, lost: (stage: string) => LmtpOutcome,
): Promise<LmtpOutcome[]> {
  const out: (LmtpOutcome | null)[] = [];
  for (let i = 0; i < tx.recipients.length; i++) {
    const r = tx.recipients[i]!;
    if (!safeForCommand(r)) {
      out.push({ letter: "D", text: "Sorry, a recipient address contains CR, LF or NUL. (#5.1.3)\n" });
      continue;
    }
    const reply = await ask(`RCPT TO:<${quoteAddress(r)}>`);
    if (!reply) return tx.recipients.map((_, k) => out[k] ?? lost("after RCPT"));
    out.push(rcptRefusal(where, reply));
  }
  const accepted = out.flatMap((o, i) => (o === null ? [i] : []));
  if (accepted.length === 0) return out as LmtpOutcome[];
  const fill = (o: LmtpOutcome | ((i: number) => LmtpOutcome)): LmtpOutcome[] =>
    out.map((x, i) => x ?? (typeof o === "function" ? o(accepted.indexOf(i)) : o));
  const d = await ask("DATA");
  if (!d) return fill(lost("after DATA"));
  const dataFail = stageFailure(where, "DATA", d, 354);
  if (dataFail) return fill(dataFail);
  if (!(await sendBody(conn, tx))) return fill({ letter: "Z", text: `Connected to LMTP server ${where} but connection died while I sent the message. Possible duplicate! (#4.4.2)\n` });
  const replies: (Reply | null)[] = [];
  for (let k = 0; k < accepted.length; k++) {
    const reply = await conn.readReply();
    replies.push(reply);
    if (!reply) break;
  }
  const extra = replies.length === accepted.length && replies.every((r) => r) && (await extraReply(conn, ask));
  const results = dataOutcomes(where, replies, accepted.length, extra);
  return fill((k) => results[k]!);
}

/** The message, dot-stuffed with CRLF, and the final dot (a partial last line gets its line end). */
async function sendBody(conn: SmtpConn, tx: LmtpTransaction): Promise<boolean> {
  const stuffer = createDotStuffer();
  if (tx.head && !(await conn.write(stuffer.push(tx.head)))) return false;
  for await (const chunk of tx.message()) {
    if (!(await conn.write(stuffer.push(chunk)))) return false;
  }
  const tail = stuffer.end() ?? Buffer.from("\r\n.\r\n", "latin1");
  return conn.write(tail);
}

/**
 * After the expected replies: anything already waiting, or a reply to QUIT
 * that is not 221, means the server sent more replies than recipients. A
 * server that closes without answering QUIT has said all it had to.
 */
async function extraReply(conn: SmtpConn, ask: (line: string) => Promise<Reply | null>): Promise<boolean> {
  if (conn.unread) return true;
  const bye = await ask("QUIT");
  return bye !== null && bye.code !== 221;
}
