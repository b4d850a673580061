/**
 * The server side of queue/lock/queued/socket (qm-queued(8)): the queue's
 * owner takes messages from listeners that run as another user (smtpd as
 * qmaild) and puts each through enqueue(), the same straight paper path as
 * a listener that owns the queue. The reply comes only after enqueue() has
 * committed (todo/ linked and fsynced), so a listener's 250 means what it
 * means on the direct path; the message is written once, not first into
 * maildrop/ and again by qm send's intake.
 *
 * Node cannot read a unix socket peer's credentials, so the file system
 * decides who may connect: the socket's directory is mode 0710 and the
 * socket 0660, both of the queue's owner and the queue directory's group
 * (qmail on an install.sh host, whose qmaild is in it). Everyone else gets
 * EACCES, and their qm inject goes on writing maildrop/.
 */
import { chmodSync, chownSync, lstatSync, mkdirSync, statSync, unlinkSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { dirname } from "node:path";
import { queueDir, queuedSocket } from "../../lib/queue/layout.ts";
import { decodeEnvelope, envelopeFail, type Envelope } from "../../lib/queue/envelope.ts";
import { MAX_ENVELOPE } from "../../lib/queue/maildrop.ts";
import { QQ, queueFail, type QueueResult } from "../../lib/queue/codes.ts";
import { formatReply, GREETING, MAX_CHUNK, MAX_LINE, parseHello, parseLength, type Hello } from "../../lib/queue/queued-wire.ts";
import { ok, temp, type Result } from "../../lib/base/result.ts";
import { errText } from "../base/errno.ts";
import { enqueue, type Invoker } from "./enqueue.ts";


/** A client that sends nothing for this long is dropped (its listener gave up long before). */
export const IDLE_MS = 3_600_000;
/** Connections served at once; one more is closed without a greeting, and its client writes maildrop/. */
export const MAX_CONNECTIONS = 1000;
/** On close(), how long messages under way get to end (within qm start's 75 s) before their connections are cut: not acknowledged, nothing kept. */
export const STOP_MS = 30_000;

export interface QueuedServer {
  /** Stops taking connections; resolves when every message under way has its answer, or was cut off after stopMs. */
  close(): Promise<void>;
  readonly busy: () => number;
}

export interface QueuedOptions {
  readonly log: (line: string) => void;
  readonly maxConnections?: number;
  readonly idleMs?: number;
  readonly stopMs?: number;
}

/**
 * Listens on the socket. A socket a stopped qm queued left behind is
 * removed; one a running qm queued answers on is not (temporary failure).
 */
export async function listenQueued(home: string, opts: QueuedOptions): Promise<Result<QueuedServer>> {
  const queue = queueDir(home);
  const path = queuedSocket(home);
  const dir = dirname(path);
  let gid: number;
  try {
    gid = statSync(queue).gid;
    try {
      mkdirSync(dir, { mode: 0o710 });
    } catch (err) {
      if ((err as { code?: string }).code !== "EEXIST") throw err;
    }
    const st = lstatSync(dir);
    const me = process.getuid?.() ?? st.uid;
    if (!st.isDirectory() || st.uid !== me) return temp("lock/queued is not a directory of the queue owner's");
    if (me === 0 || st.gid !== gid) chownSync(dir, me, gid);
    chmodSync(dir, 0o710);
  } catch (err) {
    return temp(`unable to prepare lock/queued: ${errText(err)}`);
  }
  if (await answers(path)) return temp("another qm queued is answering on lock/queued/socket");
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as { code?: string }).code !== "ENOENT") return temp(`unable to remove the old lock/queued/socket: ${errText(err)}`);
  }
  const max = opts.maxConnections ?? MAX_CONNECTIONS;
  const idle = opts.idleMs ?? IDLE_MS;
  const open = new Set<Promise<void>>();
  const socks = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (sock) => {
    sock.on("error", () => {});
    if (open.size >= max) {
      sock.destroy(); // no greeting: the client writes maildrop/ instead
      return;
    }
    socks.add(sock);
    const p = serveOne(home, sock, idle, opts.log).finally(() => (open.delete(p), socks.delete(sock)));
    open.add(p);
  });
  return new Promise((resolve) => {
    server.once("error", (err) => resolve(temp(`unable to listen on lock/queued/socket: ${errText(err)}`)));
    server.listen(path, () => {
      try {
        chownSync(path, process.getuid?.() ?? 0, gid); // the queue directory's group may connect, as the directory above says
        chmodSync(path, 0o660);
      } catch (err) {
        server.close();
        return resolve(temp(`unable to set lock/queued/socket's group and mode: ${errText(err)}`));
      }
      resolve(
        ok({
          close: async () => {
            const stopped = new Promise<void>((r) => server.close(() => r()));
            const cut = setTimeout(() => {
              for (const s of socks) s.destroy(new Error("qm queued is stopping"));
            }, opts.stopMs ?? STOP_MS);
            await Promise.all([stopped, ...open]);
            clearTimeout(cut);
          },
          busy: () => open.size,
        }),
      );
    });
  });
}

/** True when a qm queued greets on `path` within a second. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection(path);
    const done = (v: boolean) => {
      clearTimeout(t);
      sock.destroy();
      resolve(v);
    };
    const t = setTimeout(() => done(false), 1000);
    sock.on("error", () => done(false));
    sock.once("data", (b: Buffer) => done(b.toString("latin1").startsWith(GREETING.slice(0, 9))));
  });
}

const INVOKER: Record<Hello["who"], (uid: number) => Invoker> = {
  network: () => ({ kind: "network" }),
  bounce: () => ({ kind: "bounce" }),
  alias: () => ({ kind: "alias" }),
  uid: (uid) => ({ kind: "uid", uid }),
};

/** One connection: greeting, hello, the message through enqueue(), the reply. */
async function serveOne(home: string, sock: Socket, idle: number, log: (line: string) => void): Promise<void> {
  const input = new Pull(sock);
  sock.setTimeout(idle, () => sock.destroy(new Error("idle too long")));
  sock.write(GREETING);
  let reply: QueueResult<{ id: number }>;
  try {
    const line = await input.line();
    const hello = parseHello(line);
    if (!hello) throw new Framing(`not a hello line: ${JSON.stringify(line.slice(0, 40))}`);
    reply = await enqueue(home, messageOf(input), () => envelopeOf(input), { who: INVOKER[hello.who](hello.uid), uid: hello.uid });
  } catch (err) {
    reply = queueFail(QQ.readError, errText(err));
  }
  if (reply.kind !== "ok") log(`queued: warning: message not queued: ${reply.reason}`);
  if (!sock.destroyed) await new Promise<void>((r) => sock.end(formatReply(reply), () => r()));
}

async function* messageOf(input: Pull): AsyncIterable<Uint8Array> {
  for (;;) {
    const n = parseLength(await input.line(), MAX_CHUNK);
    if (n === null) throw new Framing("bad chunk length");
    if (n === 0) return;
    yield* input.exact(n);
  }
}

async function envelopeOf(input: Pull): Promise<QueueResult<Envelope>> {
  try {
    const n = parseLength(await input.line(), MAX_ENVELOPE);
    if (n === null || n === 0) return queueFail(QQ.envelopeFormat, "bad envelope length");
    const parts: Uint8Array[] = [];
    for await (const b of input.exact(n)) parts.push(b);
    const env = decodeEnvelope(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
    return env.kind === "ok" ? env : envelopeFail(env);
  } catch (err) {
    return queueFail(QQ.readError, errText(err));
  }
}

class Framing extends Error {}

/**
 * Pulls a socket's bytes as lines and counted runs, holding what was read
 * ahead. Events rather than the socket's async iterator, which destroys the
 * socket at its end: the reply must still go out after the client's end.
 * The socket is paused while a chunk waits to be taken, so a client cannot
 * make qm queued hold more than one read ahead.
 */
class Pull {
  #held: Buffer = Buffer.alloc(0);
  #chunks: Buffer[] = [];
  #ended: string | null = null;
  #wake: (() => void) | null = null;
  readonly #sock: Socket;
  constructor(sock: Socket) {
    this.#sock = sock;
    sock.on("data", (b: Buffer) => {
      this.#chunks.push(b);
      sock.pause();
      this.#poke();
    });
    sock.on("end", () => this.#end("the client closed the connection early"));
    sock.on("close", () => this.#end("the client closed the connection early"));
    sock.on("error", (err) => this.#end(errText(err)));
  }
  #end(why: string): void {
    this.#ended ??= why;
    this.#poke();
  }
  #poke(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }
  async #more(): Promise<Buffer> {
    for (;;) {
      const b = this.#chunks.shift();
      if (b) {
        if (this.#chunks.length === 0) this.#sock.resume();
        return b;
      }
      if (this.#ended !== null) throw new Framing(this.#ended);
      await new Promise<void>((r) => (this.#wake = r));
    }
  }
  /** The next line without its newline; at most MAX_LINE bytes. */
  async line(): Promise<string> {
    for (;;) {
      const nl = this.#held.indexOf(0x0a);
      if (nl >= 0) {
        const line = this.#held.subarray(0, nl).toString("latin1");
        this.#held = this.#held.subarray(nl + 1);
        return line;
      }
      if (this.#held.length >= MAX_LINE) throw new Framing("line too long");
      const b = await this.#more();
      this.#held = this.#held.length === 0 ? b : Buffer.concat([this.#held, b]);
    }
  }
  /** Exactly n bytes, as they come. */
  async *exact(n: number): AsyncIterable<Uint8Array> {
    let left = n;
    while (left > 0) {
      const b = this.#held.length > 0 ? this.#held : await this.#more();
      const take = b.subarray(0, Math.min(left, b.length));
      this.#held = b.subarray(take.length);
      left -= take.length;
      yield take;
    }
  }
}
