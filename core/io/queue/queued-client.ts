/**
 * The client side of queue/lock/queued/socket (qm-queued(8)): a process that
 * may not write the queue (smtpd as qmaild) hands its message to qm queued,
 * which writes it through enqueue() as the queue's owner. Loaded by submit()
 * only when the socket exists, so an injector on a host without qm queued
 * never loads node:net.
 */
import { createConnection, type Socket } from "node:net";
import type { Envelope } from "../../lib/queue/envelope.ts";
import { encodeEnvelope } from "../../lib/queue/envelope.ts";
import { QQ, queueFail, type QueueResult } from "../../lib/queue/codes.ts";
import { formatHello, GREETING, MAX_CHUNK, MAX_LINE, parseReply, type Hello } from "../../lib/queue/queued-wire.ts";
import { errText } from "../base/errno.ts";
import { putMessage, type Message } from "./maildrop.ts";

/** How long the greeting may take before the client writes maildrop/ instead. */
export const GREET_MS = 10_000;
/** How long the answer may take once the message is sent (qm queued's fsyncs; qmail-queue has no limit). */
export const REPLY_MS = 1_200_000;

export interface HandTimeouts {
  readonly greetMs: number;
  readonly replyMs: number;
}

/**
 * Hands one message to qm queued. null: nobody greeted (no server, a stale
 * socket, a refused connection, a busy server), and not one byte of the
 * message was taken, so the caller can write maildrop/ instead. Otherwise
 * qm queued's answer: ok only after its commit.
 */
export async function handToQueued(path: string, message: Message, env: Envelope, hello: Hello, t: HandTimeouts = { greetMs: GREET_MS, replyMs: REPLY_MS }): Promise<QueueResult<{ id: number }> | null> {
  const conn = new Conn(createConnection(path));
  const greeting = await conn.line(t.greetMs);
  if (greeting !== GREETING.slice(0, -1)) {
    conn.close();
    return null;
  }
  const lost = (why: string) => queueFail(QQ.conversationFailed, `qm queued: ${why}`);
  try {
    if (!(await conn.write(Buffer.from(formatHello(hello), "latin1")))) return lost(conn.why());
    const sent = await sendMessage(conn, message);
    if (sent) {
      conn.close(); // qm queued sees the message end early and keeps nothing
      return sent;
    }
    const envBytes = encodeEnvelope(env, { dsn: true });
    if (!(await conn.write(Buffer.concat([Buffer.from(`0\n${envBytes.length}\n`, "latin1"), envBytes])))) return lost(conn.why());
    const reply = await conn.line(t.replyMs);
    if (reply === null) return lost(`no answer: ${conn.why()}`);
    return parseReply(reply);
  } finally {
    conn.close();
  }
}

async function sendMessage(conn: Conn, message: Message): Promise<QueueResult<never> | null> {
  const put = async (b: Uint8Array): Promise<boolean> => {
    for (let at = 0; at < b.length; at += MAX_CHUNK) {
      const part = b.subarray(at, Math.min(b.length, at + MAX_CHUNK));
      if (!(await conn.write(Buffer.concat([Buffer.from(`${part.length}\n`, "latin1"), part])))) return false;
    }
    return true;
  };
  const lost = () => queueFail(QQ.conversationFailed, `qm queued: ${conn.why()}`);
  return putMessage(message, async (b) => (b.length === 0 || (await put(b)) ? null : lost()));
}

/** A socket as lines in and bytes out, with its first error kept. */
class Conn {
  #buf = "";
  #error: string | null = null;
  #ended = false;
  #wake: (() => void) | null = null;
  private readonly sock: Socket;
  constructor(sock: Socket) {
    this.sock = sock;
    sock.setEncoding("latin1");
    sock.on("data", (s: string) => {
      this.#buf += s;
      if (this.#buf.length > MAX_LINE * 2) this.#fail("the answer is too long");
      this.#poke();
    });
    sock.on("end", () => ((this.#ended = true), this.#poke()));
    sock.on("close", () => ((this.#ended = true), this.#poke()));
    sock.on("error", (err) => this.#fail(errText(err)));
    sock.on("drain", () => this.#poke());
  }
  #fail(why: string): void {
    this.#error ??= why;
    this.#ended = true;
    this.#poke();
  }
  #poke(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }
  #wait(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => ((this.#wake = null), resolve(false)), ms);
      this.#wake = () => (clearTimeout(timer), resolve(true));
    });
  }
  why(): string {
    return this.#error ?? (this.#ended ? "the connection was closed" : "timed out");
  }
  /** The next line without its newline, or null (closed, failed, or not within ms). */
  async line(ms: number): Promise<string | null> {
    const deadline = Date.now() + ms;
    for (;;) {
      const nl = this.#buf.indexOf("\n");
      if (nl >= 0 && this.#error === null) {
        const l = this.#buf.slice(0, nl);
        this.#buf = this.#buf.slice(nl + 1);
        return l;
      }
      if (this.#ended || this.#error !== null) return null;
      const left = deadline - Date.now();
      if (left <= 0 || !(await this.#wait(left))) {
        this.#error ??= "timed out";
        return null;
      }
    }
  }
  /** Writes b; false once the connection has failed. Waits for the socket to drain, so a slow server slows the writer. */
  async write(b: Uint8Array): Promise<boolean> {
    if (this.#ended || this.#error !== null) return false;
    if (this.sock.write(b)) return true;
    while (this.sock.writableNeedDrain && !this.#ended && this.#error === null) {
      if (!(await this.#wait(REPLY_MS))) this.#fail("timed out sending the message");
    }
    return !this.#ended && this.#error === null;
  }
  close(): void {
    this.sock.destroy();
  }
}
