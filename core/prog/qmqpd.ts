import type { Socket } from "node:net";
import { toBytes } from "../lib/base/bytes.ts";
import { receivedLine } from "../lib/smtpd/received.ts";
import { makePeer, type Peer } from "../lib/base/peer.ts";
import { addr, sessionLine, type Queued } from "../lib/base/session-log.ts";
import type { Result } from "../lib/base/result.ts";
import { errText } from "../io/base/errno.ts";
import { submit } from "../io/queue/submit.ts";
import { serveQmqp, type Deliver, type SessionEnd } from "../io/qmqp/session.ts";
import { serve } from "../io/base/listener.ts";

/**
 * `qm qmqpd`: the QMQP server (qmail-qmqpd). It relays to any address, so
 * only trusted clients may reach it: under inetd/tcpserver the caller decides
 * who connects; in --listen mode the rules file does (qm-qmqpd(8)), and with
 * no rules file only loopback clients are served.
 */

export const SESSION_MS = 3_600_000; // qmail-qmqpd's alarm: one hour a connection
const LOOPBACK_ONLY = "127.:allow\n::1:allow\n:deny\n";

let sessions = 0;

/** One QMQP request from `src`, its reply to `write`, and its lines in the session log (qm-log(5)). */
async function oneSession(home: string, peer: Peer, src: AsyncIterable<Uint8Array>, write: (b: Uint8Array) => Promise<void>, log: (line: string) => void): Promise<SessionEnd> {
  const sid = `${process.pid}.${++sessions}`;
  const ip = peer.remoteIP;
  log(sessionLine.connect("qmqpd", sid, peer));
  let queued: Queued | null = null;
  const deliver: Deliver = async (message, env) => {
    const received = toBytes(receivedLine({ ...peer, remoteInfo: null, helo: null, protocol: "QMQP" }, Date.now()));
    const whole = message instanceof Uint8Array ? Buffer.concat([received, message]) : prefixed(received, message);
    const r = await submit(home, whole, env, { who: { kind: "network" } });
    if (r.kind === "ok") queued = r.value.id !== undefined ? { id: r.value.id } : r.value.maildrop !== undefined ? { maildrop: r.value.maildrop } : { qp: r.value.qp };
    return r;
  };
  const end = await serveQmqp(src, write, deliver);
  if (end.kind !== "replied") log(sessionLine.dropped("qmqpd", sid, ip, `${end.kind === "bad" ? "broken request" : "too long"}: ${end.reason}`));
  else if (queued && end.env) log(sessionLine.accepted("qmqpd", sid, ip, queued, end.env.sender, end.env.recipients.length));
  else {
    const what = end.env ? `message from ${addr(end.env.sender)} rcpts ${end.env.recipients.length}` : "message";
    log(sessionLine.refused("qmqpd", sid, ip, what, end.reply.replace(/^\d+:/, "").replace(/,$/, "")));
  }
  return end;
}

async function* prefixed(first: Uint8Array, rest: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  yield first;
  yield* rest;
}

/** inetd mode: the request on stdin, the reply on stdout. Exit 0 replied, 100 broken framing, 111 too long or too slow. */
export async function qmqpdInetd(home: string, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<number> {
  const write = (b: Uint8Array) => new Promise<void>((resolve) => process.stdout.write(b, () => resolve()));
  const end = await oneSession(home, makePeer((k) => env[k]), process.stdin, write, log);
  return end.kind === "replied" ? 0 : end.kind === "bad" ? 100 : 111;
}

export interface ListenSetup {
  readonly addresses: readonly string[];
  readonly rulesFile: string; // a file in control/, e.g. "qmqprules"
  readonly maxSessions: number;
  readonly maxPerIP: number;
  readonly user: string; // as root, the account to serve as once listening (never root)
}

/** --listen mode: sessions in this process, one hour each at most, until SIGTERM/SIGINT. */
export function qmqpdListen(home: string, setup: ListenSetup, log: (line: string) => void): Promise<Result<void>> {
  return serve({
    name: "qmqpd",
    home,
    listen: setup.addresses,
    rulesFile: setup.rulesFile,
    missingRules: LOOPBACK_ONLY,
    brokenRules: "deny",
    maxSessions: setup.maxSessions,
    maxPerIP: setup.maxPerIP,
    user: setup.user,
    log,
    session: async (sock: Socket, info) => {
      const timer = setTimeout(() => sock.destroy(), SESSION_MS);
      const write = (b: Uint8Array) => new Promise<void>((resolve) => sock.end(b, () => resolve()));
      try {
        await oneSession(home, makePeer((k) => info.env.get(k), info), sock, write, log);
      } catch (err) {
        log(`qmqpd: warning: session from ${info.remoteIP} failed: ${errText(err)}`);
      } finally {
        clearTimeout(timer);
      }
    },
  });
}
