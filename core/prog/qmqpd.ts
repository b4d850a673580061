import { readFileSync, statSync } from "node:fs";
import type { Socket } from "node:net";
import { join } from "node:path";
import { parseRules, type Rule } from "../lib/base/access-rules.ts";
import { toBytes } from "../lib/base/bytes.ts";
import { receivedLine } from "../lib/smtpd/received.ts";
import { perm, type Result } from "../lib/base/result.ts";
import { errText } from "../io/base/errno.ts";
import { logSafe } from "../io/base/log.ts";
import { getpwnam } from "../io/base/passwd.ts";
import { switchTo } from "../io/base/privilege.ts";
import { uid } from "../io/base/sys.ts";
import { submit } from "../io/queue/submit.ts";
import { serveQmqp, type Deliver, type SessionEnd } from "../io/qmqp/session.ts";
import { listen, parseListenAddress, type Listener } from "../io/base/listener.ts";

/**
 * `qm qmqpd`: the QMQP server (qmail-qmqpd). It relays to any address, so
 * only trusted clients may reach it: under inetd/tcpserver the caller decides
 * who connects; in --listen mode the rules file does (qm-qmqpd(8)), and with
 * no rules file only loopback clients are served.
 */

export const SESSION_MS = 3_600_000; // qmail-qmqpd's alarm: one hour a connection
const LOOPBACK_ONLY = "127.:allow\n::1:allow\n:deny\n";
const DENY_ALL: Rule = { net: null, bits: -1, allow: false, env: new Map(), line: 0 };

interface Peer {
  readonly remoteIP: string;
  readonly remoteHost: string;
  readonly localHost: string;
}

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
  const peer: Peer = {
    remoteIP: env.TCPREMOTEIP || "unknown",
    remoteHost: env.TCPREMOTEHOST || "unknown",
    localHost: env.TCPLOCALHOST || env.TCPLOCALIP || "unknown",
  };
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

/** A rules reader that re-reads the file when it changes; a broken file serves nobody (and says so). */
function rulesSource(file: string, log: (line: string) => void): () => readonly Rule[] {
  let stamp = "";
  let rules: readonly Rule[] = [];
  return () => {
    let text = LOOPBACK_ONLY;
    let now = "missing";
    try {
      const st = statSync(file);
      now = `${st.mtimeMs}/${st.size}/${st.ino}`;
      if (now !== stamp) text = readFileSync(file, "latin1");
    } catch {
      now = "missing";
    }
    if (now === stamp) return rules;
    stamp = now;
    const parsed = parseRules(text);
    if (parsed.kind === "ok") rules = parsed.value;
    else {
      log(`qmqpd: warning: ${file}: ${parsed.reason}; refusing every client until it is fixed`);
      rules = [DENY_ALL];
    }
    return rules;
  };
}

/** --listen mode: sessions in this process, one hour each at most. */
export async function qmqpdListen(home: string, setup: ListenSetup, log: (line: string) => void): Promise<Result<Listener>> {
  const addrs: { host: string; port: number }[] = [];
  for (const a of setup.addresses) {
    const p = parseListenAddress(a);
    if (p.kind !== "ok") return p;
    addrs.push(p.value);
  }
  if (addrs.length === 0) return perm("Nothing to listen on", "5.3.5");
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(setup.rulesFile)) return perm("--rules names a file in control/", "5.3.5");
  const rules = rulesSource(join(home, "control", setup.rulesFile), log);
  const listener = await listen(addrs, {
    maxSessions: setup.maxSessions,
    maxPerIP: setup.maxPerIP,
    rules,
    onError: (what) => log(`qmqpd: warning: ${what}`),
    session: async (sock: Socket, info) => {
      const timer = setTimeout(() => sock.destroy(), SESSION_MS);
      const peer: Peer = { remoteIP: info.remoteIP, remoteHost: "unknown", localHost: info.localIP }; // as qm smtpd's listener says it
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
  if (listener.kind !== "ok" || uid() !== 0) return listener;
  const pw = await getpwnam(setup.user);
  const dropped = pw ? switchTo(pw.uid, pw.gid) : perm(`No such account ${setup.user}: create it or name another with --user`, "5.3.5");
  if (dropped.kind === "ok") return listener;
  await listener.value.close();
  return dropped;
}
