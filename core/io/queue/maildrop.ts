/**
 * The maildrop writer (docs/maildrop.md): how a process that may not write
 * the queue (smtpd as qmaild, qm inject as a user) hands a message to
 * `qm send`. maildrop/ is mode 1733, so the writer cannot open it to fsync
 * it: the design needs no directory fsync and no rename. The file is
 * created under its final name, written whole (header, message, envelope,
 * trailer), and one fsync of the file makes its data and its name durable
 * (see the document for the file systems and why). ok only after that
 * fsync; every error of a step that the acknowledgement rests on is a
 * failure, and a failed attempt is cut to nothing and removed.
 */
import { closeSync, constants, fchmodSync, fstatSync, ftruncateSync, open as openCb, openSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { fsyncFd, writeAll } from "../base/sys.ts";
import { errText } from "../base/errno.ts";
import { badAddress, encodeEnvelope, type Envelope } from "../../lib/queue/envelope.ts";
import { QQ, queueFail, type QueueFail, type QueueResult } from "../../lib/queue/codes.ts";
import { formatName, formatTrailer, HEADER, READY_BIT } from "../../lib/queue/maildrop.ts";
import { crc32c } from "../../lib/queue/crc32c.ts";

export type Message = Uint8Array | AsyncIterable<Uint8Array>;
/** The envelope, or a function that gets it once the message is written (qm queue reads fd 1 after fd 0). */
export type DropEnvelope = Envelope | (() => Promise<QueueResult<Envelope>>);

/** 16 random hex digits from Web Crypto (a global: loading node:crypto costs inject's start-up ~2 ms on Bun). */
export function randomHex(): string {
  return Array.from(globalThis.crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Test hooks: which step fails (fault injection through the public path, no monkeypatching). */
export interface DropOptions {
  readonly blocking?: boolean;
  readonly fsync?: (fd: number, blocking: boolean) => Promise<void>;
}

/** Writes one message into maildrop/; ok({ name }) once the file, and so its name, is durable. */
export async function writeMaildrop(home: string, message: Message, source: DropEnvelope, opts: DropOptions = {}): Promise<QueueResult<{ name: string }>> {
  const blocking = opts.blocking === true;
  const name = formatName({ ms: Date.now(), pid: process.pid, token: randomHex() });
  const path = join(home, "queue", "maildrop", name);
  let fd: number;
  try {
    fd = await create(path, blocking);
  } catch (err) {
    return queueFail(QQ.writeError, `unable to create a file in the maildrop directory: ${errText(err)}`);
  }
  const r = await fill(fd, name, message, source, opts.fsync ?? fsyncFd, blocking);
  if (r.kind !== "ok") {
    discard(fd, path);
    return r;
  }
  try {
    closeSync(fd);
  } catch (err) {
    discard(-1, path);
    return queueFail(QQ.writeError, `unable to close the maildrop file: ${errText(err)}`);
  }
  return { kind: "ok", value: { name } };
}

/** O_EXCL create, then mode 0644 whatever the umask: qm send reads the file as the queue's owner. */
async function create(path: string, blocking: boolean): Promise<number> {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;
  const fd = blocking ? openSync(path, flags, 0o644) : await new Promise<number>((resolve, reject) => openCb(path, flags, 0o644, (err, n) => (err ? reject(err) : resolve(n))));
  try {
    fchmodSync(fd, 0o644);
  } catch (err) {
    closeSync(fd);
    unlinkSync(path);
    throw err;
  }
  return fd;
}

async function fill(fd: number, name: string, message: Message, source: DropEnvelope, fsync: NonNullable<DropOptions["fsync"]>, blocking: boolean): Promise<QueueResult<null>> {
  let crc = 0;
  let length = 0;
  const put = (bytes: Uint8Array): QueueFail | null => {
    try {
      writeAll(fd, bytes);
    } catch (err) {
      return queueFail(QQ.writeError, `unable to write the maildrop file: ${errText(err)}`);
    }
    crc = crc32c(crc, bytes);
    return null;
  };
  const failed = put(HEADER) ?? (await putMessage(message, (b) => ((length += b.length), put(b))));
  if (failed) return failed;
  const env = typeof source === "function" ? await source() : { kind: "ok" as const, value: source };
  if (env.kind !== "ok") return env;
  const bad = badAddress(env.value);
  if (bad !== null) return queueFail(QQ.addressTooLong, "address too long or contains NUL");
  const envBytes = encodeEnvelope(env.value, { dsn: true });
  const wrote = put(envBytes) ?? put(formatTrailer({ messageLength: length, envelopeLength: envBytes.length, crc, token: name.slice(-16) }));
  if (wrote) return wrote;
  try {
    await fsync(fd, blocking);
    // nobody may remove a file whose writer is alive; if it happened anyway, this message is not safe
    if (fstatSync(fd).nlink < 1) return queueFail(QQ.writeError, "the maildrop file was removed while being written");
  } catch (err) {
    return queueFail(QQ.writeError, `unable to fsync the maildrop file: ${errText(err)}`);
  }
  try {
    fchmodSync(fd, 0o644 | READY_BIT); // durable now: intake may take it (docs/maildrop.md)
  } catch (err) {
    return queueFail(QQ.writeError, `unable to mark the maildrop file ready: ${errText(err)}`);
  }
  return { kind: "ok", value: null };
}

/**
 * Each chunk of a message to `put`, in order, until `put` fails; a message
 * that cannot be read to its end is qmail-queue's read error (54). Used by
 * every writer of a message: maildrop/, enqueue(), the hand-over to qm queued.
 */
export async function putMessage(message: Message, put: (b: Uint8Array) => QueueFail | null | Promise<QueueFail | null>): Promise<QueueFail | null> {
  if (message instanceof Uint8Array) return put(message);
  const it = message[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Uint8Array>;
    try {
      next = await it.next();
    } catch (err) {
      return queueFail(QQ.readError, `unable to read the message: ${errText(err)}`);
    }
    if (next.done) return null;
    const failed = await put(next.value);
    if (failed) return failed;
  }
}

/**
 * A failed attempt: cut to nothing first, so that even if the unlink fails
 * intake can never take it for complete (it is then an incomplete file,
 * removed once this process is gone).
 */
function discard(fd: number, path: string): void {
  if (fd >= 0) {
    try {
      ftruncateSync(fd, 0);
    } catch {
      // unlinked below; if that fails too, the trailer may survive: a duplicate at worst, never a loss
    }
    try {
      closeSync(fd);
    } catch {
      // the descriptor is gone either way
    }
  }
  try {
    unlinkSync(path);
  } catch {
    // an incomplete file without a trailer: intake removes it when this process is gone
  }
}
