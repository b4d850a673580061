import { stat } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import type { Envelope } from "../../lib/queue/envelope.ts";
import { clientCode, decodeReply, MAX_MESSAGE, MAX_REPLY, parseServer, requestFraming, type Reply } from "../../lib/qmqp/protocol.ts";
import { QQ, type QueueResult } from "../../lib/queue/codes.ts";
import { readControlList } from "../base/control.ts";
import { Spool } from "./spool.ts";

/**
 * mini-qmail's queue (qmail-qmqpc, docs/qmail.md §12): with control/qmqpservers
 * present, a message is not queued here but handed to the first QMQP server
 * that takes it. The result is a qmail-queue exit code: 0 taken, 31 refused
 * for good (D), 71 refused for now (Z), 72 connect timed out, 73 refused,
 * 74 conversation failed, 55 no servers, 54 unreadable input, 51 too big.
 */

export interface ClientTimeouts {
  readonly connectMs: number;
  readonly ioMs: number;
}
const TIMEOUTS: ClientTimeouts = { connectMs: 10_000, ioMs: 60_000 };

/** True when control/qmqpservers exists: this host is a QMQP null client. */
export async function isQmqpClient(home: string): Promise<boolean> {
  try {
    await stat(join(home, "control", "qmqpservers"));
    return true;
  } catch {
    return false;
  }
}

/** qm queue's path on a null client: message on fd 0 first, then the envelope. */
export async function runQmqpClient(home: string, message: AsyncIterable<Uint8Array>, readEnvelope: () => Promise<QueueResult<Envelope>>, t = TIMEOUTS): Promise<number> {
  const spool = new Spool();
  try {
    try {
      for await (const chunk of message) {
        if (spool.size + chunk.length > MAX_MESSAGE) return QQ.noMemory;
        await spool.write(chunk);
      }
    } catch {
      return QQ.readError;
    }
    const env = await readEnvelope();
    if (env.kind !== "ok") return env.code;
    return await handOff(home, spool, env.value, t);
  } finally {
    await spool.dispose();
  }
}

/** submit()'s path on a null client: the message is already in hand. */
export async function qmqpSubmit(home: string, message: Uint8Array | AsyncIterable<Uint8Array>, env: Envelope, t = TIMEOUTS): Promise<number> {
  const known = async () => ({ kind: "ok" as const, value: env });
  if (message instanceof Uint8Array) return runQmqpClient(home, (async function* () { yield message; })(), known, t);
  return runQmqpClient(home, message, known, t);
}

async function handOff(home: string, spool: Spool, env: Envelope, t: ClientTimeouts): Promise<number> {
  const list = await readControlList(home, "qmqpservers");
  if (list.kind !== "ok" || list.value === null) return QQ.noConfig;
  let last: number = QQ.noConfig;
  for (const line of list.value.slice(0, 100)) {
    const server = parseServer(line);
    if (!server) continue; // as qmail-qmqpc: lines that are not addresses are skipped
    const code = await tryServer(server, spool, env, t);
    if (code === QQ.ok || code === QQ.refused) return code;
    last = code;
  }
  return last;
}

async function tryServer(server: { host: string; port: number }, spool: Spool, env: Envelope, t: ClientTimeouts): Promise<number> {
  const sock = await open(server, t.connectMs);
  if (typeof sock === "number") return sock;
  try {
    sock.setTimeout(t.ioMs, () => sock.destroy());
    const replied = readReply(sock);
    const { head, tail } = requestFraming(spool.size, env);
    const message = await spool.message();
    if (!(await send(sock, head))) return QQ.conversationFailed;
    if (message instanceof Uint8Array) {
      if (!(await send(sock, message))) return QQ.conversationFailed;
    } else {
      for await (const chunk of message) if (!(await send(sock, chunk as Uint8Array))) return QQ.conversationFailed;
    }
    if (!(await send(sock, tail))) return QQ.conversationFailed;
    return clientCode(await replied);
  } catch {
    return QQ.conversationFailed;
  } finally {
    sock.destroy();
  }
}

function open(server: { host: string; port: number }, ms: number): Promise<Socket | number> {
  return new Promise((resolve) => {
    const sock = connect({ host: server.host, port: server.port });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(QQ.connectTimeout);
    }, ms);
    sock.once("connect", () => {
      clearTimeout(timer);
      sock.removeAllListeners("error");
      sock.on("error", () => {});
      resolve(sock);
    });
    sock.once("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(err.code === "ETIMEDOUT" ? QQ.connectTimeout : QQ.connectRefused);
    });
  });
}

function send(sock: Socket, b: Uint8Array): Promise<boolean> {
  if (sock.destroyed) return Promise.resolve(false);
  if (sock.write(b)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (v: boolean) => {
      sock.off("drain", onDrain);
      sock.off("close", onClose);
      resolve(v);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    sock.on("drain", onDrain);
    sock.on("close", onClose);
  });
}

/** The reply netstring; null when the server hangs up, talks nonsense or talks too much. */
function readReply(sock: Socket): Promise<Reply | null> {
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    const finish = (r: Reply | null) => {
      sock.removeAllListeners("data");
      resolve(r);
    };
    sock.on("data", (b: Buffer) => {
      got = Buffer.concat([got, b]);
      const r = decodeReply(got);
      if (r !== "more") finish(r);
      else if (got.length > MAX_REPLY + 16) finish(null);
    });
    sock.once("close", () => {
      const r = decodeReply(got);
      finish(r === "more" ? null : r);
    });
  });
}
