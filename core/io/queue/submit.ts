import { closeSync, constants, existsSync, open as openCb, openSync, renameSync, statSync, unlink } from "node:fs";
import { join } from "node:path";
import { fsyncFd, fsyncPath, writeAll } from "../base/sys.ts";
import { encodeEnvelope, type Envelope } from "../../lib/queue/envelope.ts";
import { qqFail } from "../../lib/queue/codes.ts";
import { ok, type Result } from "../../lib/base/result.ts";
import { fromErrno } from "../base/errno.ts";
import { enqueue, pullTrigger, type Invoker } from "./enqueue.ts";

export type { Invoker } from "./enqueue.ts";

/** 16 random hex digits from Web Crypto (a global: loading node:crypto costs inject's start-up ~2 ms on Bun). */
export function randomHex(): string {
  return Array.from(globalThis.crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, "0")).join("");
}
export type Message = Uint8Array | AsyncIterable<Uint8Array>;
export interface SubmitOptions {
  readonly who?: Invoker;
  readonly env?: NodeJS.ProcessEnv;
  /** a process that queues one message and exits: synchronous calls, no thread pool (EnqueueOptions.blocking) */
  readonly blocking?: boolean;
}

/**
 * Puts one message into the queue: the only way any part of qm does it
 * (HACKING.md). $QMAILQUEUE names another queue program; root and the
 * queue's owner write the queue in-process; anyone else writes maildrop/.
 * ok means durable: written, fsynced and committed.
 */
export async function submit(home: string, message: Message, env: Envelope, opts: SubmitOptions = {}): Promise<Result<{ qp: number }>> {
  const qq = (opts.env ?? process.env).QMAILQUEUE;
  // $QMAILQUEUE: loaded only here, so an injector on a normal host never loads child_process or node:os
  if (qq) return (await import("./submit-program.ts")).runQueueProgram(qq, message, env);
  if (existsSync(join(home, "control", "qmqpservers"))) {
    // a QMQP null client (mini-qmail): loaded only here, so injectors on a normal host never load node:net
    const { qmqpSubmit } = await import("../qmqp/client.ts");
    const code = await qmqpSubmit(home, message, env);
    return code === 0 ? ok({ qp: process.pid }) : qqFail(code);
  }
  if (writesQueue(home)) {
    const r = await enqueue(home, message, env, { who: opts.who ?? { kind: "uid", uid: process.getuid?.() ?? 0 }, blocking: opts.blocking });
    return r.code === 0 ? ok({ qp: process.pid }) : qqFail(r.code);
  }
  return maildrop(home, message, env, opts.blocking);
}

/** True when this process may write the queue itself (root, or the queue's owner). */
export function writesQueue(home: string): boolean {
  const uid = process.getuid?.() ?? 0;
  return uid === 0 || uid === queueOwner(home);
}

function queueOwner(home: string): number {
  try {
    return statSync(join(home, "queue")).uid;
  } catch {
    return -2;
  }
}

/**
 * A local user who cannot write the queue: envelope + message into maildrop/,
 * fsynced, renamed, trigger. Small calls synchronous, the create and the
 * fsync in the thread pool unless `blocking` (as enqueue() does).
 */
export async function maildrop(home: string, message: Message, env: Envelope, blocking = false): Promise<Result<{ qp: number }>> {
  const dir = join(home, "queue", "maildrop");
  const name = `${Date.now()}.${process.pid}.${randomHex()}`;
  const tmp = join(dir, `.${name}`);
  let fd = -1;
  try {
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;
    fd = blocking ? openSync(tmp, flags, 0o644) : await new Promise<number>((resolve, reject) => openCb(tmp, flags, 0o644, (err, n) => (err ? reject(err) : resolve(n))));
    writeAll(fd, encodeEnvelope(env));
    if (message instanceof Uint8Array) writeAll(fd, message);
    else for await (const chunk of message) writeAll(fd, chunk);
    await fsyncFd(fd, blocking);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, join(dir, name));
    // the directory is not readable by its writers: rename is durable on journaling filesystems; a failure here is not the message's
    await fsyncPath(dir, { directory: true, blocking }).catch(() => {});
  } catch (err) {
    if (fd >= 0) closeSync(fd);
    unlink(tmp, () => {});
    return fromErrno(err, "Unable to write to the maildrop directory");
  }
  await pullTrigger(home);
  return ok({ qp: process.pid });
}

