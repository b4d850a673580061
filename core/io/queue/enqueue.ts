import { closeSync, constants, fstatSync, linkSync, open, openSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { fsyncFd, fsyncPath, writeAll } from "../base/sys.ts";
import { putMessage } from "./maildrop.ts";
import { toBytes } from "../../lib/base/bytes.ts";
import { formatDate822 } from "../../lib/base/date822.ts";
import { badAddress, envelopeFields, type Envelope, uniqueRecipients } from "../../lib/queue/envelope.ts";
import { QQ, queueFail, type QueueFail, type QueueResult } from "../../lib/queue/codes.ts";
import { errText } from "../base/errno.ts";
import { flatPath, splitPath, SPLIT } from "../../lib/queue/layout.ts";

/** Who put the message in: the text of qmail-queue's Received line (docs/qmail.md §1.3). */
export type Invoker =
  | { readonly kind: "uid"; readonly uid: number }
  | { readonly kind: "network" }
  | { readonly kind: "bounce" }
  | { readonly kind: "alias" };

export interface EnqueueOptions {
  readonly who?: Invoker;
  readonly uid?: number; // the u record; defaults to the process uid (or who.uid)
  readonly pid?: number; // the p record and "qmail <pid>" in Received; defaults to this process
  readonly now?: () => number;
  /**
   * A process that queues one message and exits (qm inject, qm queue): every
   * call synchronous. Starting the thread pool costs such a process more than
   * sharing journal commits saves it.
   */
  readonly blocking?: boolean;
}

/** The envelope, or a function that reads it once the message is on disk (qm queue reads fd 1 after fd 0). */
export type EnvelopeSource = Envelope | (() => Promise<QueueResult<Envelope>>);

let seq = 0;

function receivedLine(pid: number, who: Invoker, now: number): string {
  const by = new Map<Invoker["kind"], string>([
    ["network", "from network"],
    ["bounce", "for bounce"],
    ["alias", "by alias"],
  ]).get(who.kind) ?? `by uid ${who.kind === "uid" ? who.uid : 0}`;
  return `Received: (qmail ${pid} invoked ${by}); ${formatDate822(now)}\n`;
}

/**
 * qmail-queue's straight paper path (docs/qmail.md §1.2): pid/ -> link mess/ ->
 * write -> intd/ -> fsync mess, intd and both directories -> link todo/ (the
 * commit point) -> fsync todo/, then the trigger. On failure nothing is left
 * in todo/, and mess/intd files of this attempt are removed.
 *
 * Speed (issue 5): the cheap metadata calls (open, link, unlink, small
 * writes) are synchronous, since a thread-pool round trip costs more than
 * the call; only the fsyncs go to the pool, the four before the commit point
 * at once, so the filesystem folds them into one journal commit and the
 * sessions of a listener share commits (opts.blocking: all synchronous).
 */
export async function enqueue(home: string, message: Uint8Array | AsyncIterable<Uint8Array>, source: EnvelopeSource, opts: EnqueueOptions = {}): Promise<QueueResult<{ id: number }>> {
  const queue = join(home, "queue");
  const pid = opts.pid ?? process.pid;
  const uid = opts.uid ?? (opts.who?.kind === "uid" ? opts.who.uid : (process.getuid?.() ?? 0));
  const who = opts.who ?? { kind: "uid", uid };
  const now = (opts.now ?? Date.now)();

  const sync = opts.blocking === true;
  const made = await makePidFile(queue, pid, now, sync);
  if (made.kind !== "ok") return made;
  const { id, fd } = made.value;
  const messDir = join(queue, "mess", String(id % SPLIT));
  const mess = join(queue, splitPath("mess", id));
  const intd = join(queue, flatPath("intd", id));
  const fds = new Set<number>([fd]);
  const fail = (files: string[], f: QueueFail): QueueFail => {
    for (const fd of fds) closeQuietly(fd);
    for (const p of files) unlinkQuietly(p);
    return f;
  };
  try {
    linkSync(made.value.path, mess);
  } catch (err) {
    return fail([made.value.path], queueFail(QQ.messTrouble, `unable to link mess file: ${errText(err)}`));
  }
  unlinkQuietly(made.value.path); // a pid file left behind is removed by cleanPid()
  const written = await writeMessage(fd, receivedLine(pid, who, now), message);
  if (written) return fail([mess], written);
  const got = typeof source === "function" ? await source() : { kind: "ok" as const, value: source };
  if (got.kind !== "ok") return fail([mess], got);
  const env = uniqueRecipients(got.value); // 1000 RCPTs of one address are one delivery, not 1000
  if (badAddress(env) !== null) return fail([mess], queueFail(QQ.addressTooLong, "address too long or contains NUL"));
  const info = toBytes(`u${uid}\0p${pid}\0${envelopeFields(env, true).map((f) => `${f}\0`).join("")}`); // with qm's DSN records (docs/queue.md §4)
  let ifd: number;
  try {
    ifd = await createFile(intd, sync);
  } catch (err) {
    return fail([mess], queueFail(QQ.intdTrouble, `unable to create intd file: ${errText(err)}`));
  }
  fds.add(ifd);
  try {
    writeAll(ifd, info);
    const dir = { directory: true, blocking: sync };
    await Promise.all([fsyncFd(fd, sync), fsyncFd(ifd, sync), fsyncPath(messDir, dir), fsyncPath(join(queue, "intd"), dir)]);
    for (const f of fds) closeSync(f); // after fsync a close reports nothing new on a local disk; checked all the same
    fds.clear();
  } catch (err) {
    return fail([intd, mess], queueFail(QQ.writeError, `unable to write intd file: ${errText(err)}`));
  }
  try {
    linkSync(intd, join(queue, flatPath("todo", id)));
  } catch (err) {
    return fail([intd, mess], queueFail(QQ.todoTrouble, `unable to link todo file: ${errText(err)}`));
  }
  try {
    await fsyncPath(join(queue, "todo"), { directory: true, blocking: sync });
  } catch (err) {
    // todo/<id> exists and qm send may have taken it already: its files stay (a duplicate at worst), the caller is told
    return queueFail(QQ.todoTrouble, `unable to fsync the todo directory: ${errText(err)}`);
  }
  await pullTrigger(home);
  return { kind: "ok", value: { id } };
}

async function makePidFile(queue: string, pid: number, now: number, sync: boolean): Promise<QueueResult<{ id: number; path: string; fd: number }>> {
  for (let tries = 0; tries < 9; tries++) {
    const path = join(queue, "pid", `${pid}.${Math.floor(now / 1000)}.${++seq}`);
    let fd: number;
    try {
      fd = await createFile(path, sync);
    } catch (err) {
      if ((err as { code?: string }).code !== "EEXIST") return queueFail(QQ.pidTrouble, `unable to create pid file: ${errText(err)}`);
      continue;
    }
    try {
      return { kind: "ok", value: { id: Number(fstatSync(fd).ino), path, fd } };
    } catch {
      closeQuietly(fd);
      unlinkQuietly(path);
      return queueFail(QQ.pidTrouble, "unable to stat pid file");
    }
  }
  return queueFail(QQ.pidTrouble, "unable to create a unique pid file");
}

/** Writes the Received line and the message into the page cache; fsynced later, with the intd file. */
async function writeMessage(fd: number, received: string, message: Uint8Array | AsyncIterable<Uint8Array>): Promise<QueueFail | null> {
  try {
    writeAll(fd, toBytes(received));
    // a write error throws out of putMessage to the catch below; a read error comes back from it
    return await putMessage(message, (b) => (writeAll(fd, b), null));
  } catch (err) {
    return queueFail(QQ.writeError, `unable to write message: ${errText(err)}`);
  }
}

/** O_EXCL create in the thread pool: allocating an inode is the dearest call here (ext4 scans for a free one). */
async function createFile(path: string, sync: boolean): Promise<number> {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;
  if (sync) return openSync(path, flags, 0o644);
  return new Promise((resolve, reject) => open(path, flags, 0o644, (err, fd) => (err ? reject(err) : resolve(fd))));
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed or never valid: nothing to undo
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already
  }
}

/** Wakes the queue manager: one byte into the FIFO lock/trigger; no reader is not an error. */
export async function pullTrigger(home: string): Promise<void> {
  let fd: number;
  try {
    fd = openSync(join(home, "queue", "lock", "trigger"), constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    return; // ENXIO (no reader), ENOENT: the queue manager will find the message on its next scan
  }
  try {
    writeSync(fd, new Uint8Array(1));
  } catch {
    // EAGAIN: the FIFO is full, the queue manager is awake anyway
  }
  closeQuietly(fd);
}
