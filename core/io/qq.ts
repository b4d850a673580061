import { closeSync, constants, existsSync, fsync, open as openCb, openSync, renameSync, statSync, writeSync } from "node:fs";
import { open, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeEnvelope, type Envelope } from "../lib/envelope.ts";
import { qqFail } from "../lib/queue-codes.ts";
import { ok, temp, type Result } from "../lib/result.ts";
import { fromErrno } from "./errno.ts";
import { enqueue, pullTrigger, type Invoker } from "./queue-dir.ts";

export type { Invoker } from "./queue-dir.ts";

/** 16 random hex digits from Web Crypto (a global: loading node:crypto costs inject's start-up ~2 ms on Bun). */
function randomHex(): string {
  return Array.from(globalThis.crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, "0")).join("");
}
type Message = Uint8Array | AsyncIterable<Uint8Array>;
export interface SubmitOptions {
  readonly who?: Invoker;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Puts one message into the queue: the only way any part of qm does it
 * (HACKING.md). $QMAILQUEUE names another queue program; root and the
 * queue's owner write the queue in-process; anyone else writes maildrop/.
 * ok means durable: written, fsynced and committed.
 */
export async function submit(home: string, message: Message, env: Envelope, opts: SubmitOptions = {}): Promise<Result<{ qp: number }>> {
  const qq = (opts.env ?? process.env).QMAILQUEUE;
  if (qq) return runQueueProgram(qq, home, message, env);
  if (existsSync(join(home, "control", "qmqpservers"))) {
    // a QMQP null client (mini-qmail): loaded only here, so injectors on a normal host never load node:net
    const { qmqpSubmit } = await import("./qmqp-client.ts");
    const code = await qmqpSubmit(home, message, env);
    return code === 0 ? ok({ qp: process.pid }) : qqFail(code);
  }
  if (writesQueue(home)) {
    const r = await enqueue(home, message, env, { who: opts.who ?? { kind: "uid", uid: process.getuid?.() ?? 0 } });
    return r.code === 0 ? ok({ qp: process.pid }) : qqFail(r.code);
  }
  return maildrop(home, message, env);
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
 * qmail.c's client side: message on the child's fd 0, envelope on its fd 1,
 * its exit code decides. fd 1 is an unlinked temporary file rather than a
 * pipe (Bun and Deno give a child's fd 1 no write side): the envelope is
 * written into it with pwrite only after the whole message went through, so
 * a message cut short meets an empty envelope and is never queued.
 */
async function runQueueProgram(program: string, home: string, message: Message, env: Envelope): Promise<Result<{ qp: number }>> {
  const path = join(tmpdir(), `qm-envelope.${process.pid}.${randomHex()}`);
  let fh;
  try {
    fh = await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
    await unlink(path);
  } catch (err) {
    return fromErrno(err, "Unable to create the envelope file for the queue program");
  }
  try {
    const { spawn } = await import("node:child_process"); // only for $QMAILQUEUE: inject's start-up stays small
    return await new Promise((resolve) => {
      const child = spawn(program, [], { cwd: home, stdio: ["pipe", fh.fd, "inherit"] });
      let complete = false;
      child.on("error", () => resolve(qqFail(120)));
      child.on("close", (code, signal) => {
        if (signal || code === null) return resolve(temp("Queue program crashed", "4.3.0"));
        if (code !== 0) return resolve(qqFail(code));
        resolve(complete ? ok({ qp: child.pid ?? 0 }) : temp("Unable to read the message for the queue program", "4.3.0"));
      });
      const stdin = child.stdin!;
      stdin.on("error", () => {});
      void (async () => {
        try {
          if (message instanceof Uint8Array) stdin.write(message);
          else for await (const chunk of message) if (!stdin.write(chunk)) await new Promise((r) => stdin.once("drain", r));
          const bytes = encodeEnvelope(env);
          await fh.write(bytes, 0, bytes.length, 0); // pwrite: the child's shared offset stays at 0
          complete = true;
        } catch {
          // the message failed: the child reads an empty envelope and exits 54
        }
        stdin.end();
      })();
    });
  } finally {
    await fh.close().catch(() => {});
  }
}

/**
 * A local user who cannot write the queue: envelope + message into maildrop/,
 * fsynced, renamed, trigger. Small calls synchronous, the create and the
 * fsync in the thread pool (as enqueue() does).
 */
export async function maildrop(home: string, message: Message, env: Envelope): Promise<Result<{ qp: number }>> {
  const dir = join(home, "queue", "maildrop");
  const name = `${Date.now()}.${process.pid}.${randomHex()}`;
  const tmp = join(dir, `.${name}`);
  let fd = -1;
  try {
    fd = await new Promise<number>((resolve, reject) => openCb(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644, (err, n) => (err ? reject(err) : resolve(n))));
    writeAll(fd, encodeEnvelope(env));
    if (message instanceof Uint8Array) writeAll(fd, message);
    else for await (const chunk of message) writeAll(fd, chunk);
    await new Promise<void>((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
    closeSync(fd);
    fd = -1;
    renameSync(tmp, join(dir, name));
    await syncDir(dir); // the directory is not readable by its writers: rename is durable on journaling filesystems
  } catch (err) {
    if (fd >= 0) closeSync(fd);
    await unlink(tmp).catch(() => {});
    return fromErrno(err, "Unable to write to the maildrop directory");
  }
  await pullTrigger(home);
  return ok({ qp: process.pid });
}

async function syncDir(dir: string): Promise<void> {
  let d: number;
  try {
    d = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch {
    return;
  }
  await new Promise<void>((resolve) => fsync(d, () => resolve()));
  closeSync(d);
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
}
