import type { Socket } from "node:net";
import { toBytes } from "../lib/base/bytes.ts";
import { receivedLine } from "../lib/smtpd/received.ts";
import { makePeer, type Peer } from "../lib/base/peer.ts";
import type { Result } from "../lib/base/result.ts";
import { errText } from "../io/base/errno.ts";
import { logSafe } from "../io/base/log.ts";
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

function deliverer(home: string, peer: Peer): Deliver {
  return (message, env) => {
    const received = toBytes(receivedLine({ ...peer, remoteInfo: null, helo: null, protocol: "QMQP" }, Date.now()));
    const whole = message instanceof Uint8Array ? Buffer.concat([received, message]) : prefixed(received, message);
    return submit(home, whole, env, { who: { kind: "network" } });
  };
}

async function* prefixed(first: Uint8Array, rest: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  yield first;
  yield* rest;
}

function describeEnd(end: SessionEnd): string {
  if (end.kind !== "replied") return `${end.kind}: ${end.reason}`;
  const who = end.env ? ` from <${end.env.sender}> to ${end.env.recipients.length} recipient(s)` : "";
  return `${end.reply.replace(/^\d+:/, "").replace(/,$/, "")}${who}`;
}

/** inetd mode: the request on stdin, the reply on stdout. Exit 0 replied, 100 broken framing, 111 too long or too slow. */
export async function qmqpdInetd(home: string, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<number> {
  const peer = makePeer((k) => env[k]);
  const write = (b: Uint8Array) => new Promise<void>((resolve) => process.stdout.write(b, () => resolve()));
  const end = await serveQmqp(process.stdin, write, deliverer(home, peer));
  log(`qmqpd: ${peer.remoteIP}: ${logSafe(describeEnd(end))}`);
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
      const peer = makePeer((k) => info.env.get(k), info);
      const write = (b: Uint8Array) => new Promise<void>((resolve) => sock.end(b, () => resolve()));
      try {
        const end = await serveQmqp(sock, write, deliverer(home, peer));
        log(`qmqpd: ${info.remoteIP}: ${logSafe(describeEnd(end))}`);
      } catch (err) {
        log(`qmqpd: ${info.remoteIP}: dropped: ${errText(err)}`);
      } finally {
        clearTimeout(timer);
      }
    },
  });
}
