/**
 * Maildrop intake (docs/maildrop.md), run by `qm send`: each complete file
 * in maildrop/ goes into the queue through enqueue() with the file owner's
 * uid as the submitter, then is unlinked. A file that holds a complete
 * message is never removed before it is queued. An incomplete one is left
 * while its writer may still be writing and removed, with a log line that
 * says why, once the writer is gone. A name starting with a dot is not
 * what the writer makes (an older qm wrote .NAME, then renamed it): taken in
 * when it is whole in this format, else left alone for the administrator,
 * with one warning per qm send process (its completeness cannot be known).
 */
import { closeSync, constants, fstatSync, openSync, readdirSync, readFileSync, readSync, statSync, unlinkSync, type Stats } from "node:fs";
import { uptime } from "node:os";
import { join } from "node:path";
import { decodeEnvelope, envelopeFail, readEnvelope, type Envelope, type EnvelopeRead } from "../../lib/queue/envelope.ts";
import { QQ, queueFail, type QueueResult } from "../../lib/queue/codes.ts";
import { crc32c } from "../../lib/queue/crc32c.ts";
import { hasHeader, HEADER, MAX_ENVELOPE, parseName, parseTrailer, READY_BIT, TRAILER_LENGTH, wholeSize, writerGone, type DropName, type Trailer } from "../../lib/queue/maildrop.ts";
import { errText } from "../base/errno.ts";
import { enqueue } from "./enqueue.ts";

export type IntakeEvent = { readonly name: string; readonly ok: boolean; readonly text: string };

/** How intake reads a file: readSync's shape, replaceable so a test can count the bytes read. */
export type Pread = (fd: number, buf: Uint8Array, position: number) => number;
const pread: Pread = (fd, buf, position) => readSync(fd, buf, 0, buf.length, position);
const CHUNK = 65536;

export interface IntakeOptions {
  readonly pread?: Pread;
}

/** Takes in up to `limit` files of maildrop/; returns what happened to each that needed saying. */
export async function takeMaildrop(home: string, nowSec: number, limit: number, opts: IntakeOptions = {}): Promise<IntakeEvent[]> {
  const dir = join(home, "queue", "maildrop");
  const events: IntakeEvent[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return events;
  }
  const ctx = { nowSec, bootSec: bootSec(), pread: opts.pread ?? pread };
  const todo = names.slice(0, limit);
  let next = 0;
  // several files at once: each is queued on the paper path with its own fsyncs, and fsyncs
  // under way together share the file system's journal commits
  const worker = async (): Promise<void> => {
    for (let i = next++; i < todo.length; i = next++) {
      const name = todo[i]!;
      try {
        const e = name.startsWith(".") ? await takeDotted(home, join(dir, name), name, ctx) : await takeOne(home, join(dir, name), name, ctx);
        if (e) events.push(e);
      } catch (err) {
        events.push({ name, ok: false, text: `unable to read maildrop/${name}: ${errText(err)}; will try later` });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(INTAKE_AT_ONCE, todo.length) }, worker));
  return events;
}

/** Maildrop files taken in at once. */
const INTAKE_AT_ONCE = 16;

const warned = new Set<string>();
const damagedSeen = new Map<string, string>();

/** .NAME: taken in only when whole in this format; never removed otherwise. */
async function takeDotted(home: string, path: string, name: string, ctx: Ctx): Promise<IntakeEvent | null> {
  const drop = parseName(name.slice(1));
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const st = fstatSync(fd);
    const t = drop && st.isFile() ? wholeTrailer(fd, st, drop, ctx.pread) : null;
    if (t) {
      const r = await takeWhole(home, fd, st, t, ctx.pread);
      if (typeof r !== "string") return finish(path, name, st, r);
    }
    if (warned.has(name)) return null;
    warned.add(name);
    return { name, ok: false, text: `maildrop/${name} is not a whole maildrop file (an older qm's, or not qm's): left alone; look at it and remove it by hand` };
  } finally {
    closeSync(fd);
  }
}

/** The trailer of a whole file named for `drop`, or null. */
function wholeTrailer(fd: number, st: Stats, drop: DropName, read: Pread): Trailer | null {
  if (st.size < HEADER.length + TRAILER_LENGTH || !hasHeader(readAt(read, fd, 0, HEADER.length))) return null;
  const t = parseTrailer(readAt(read, fd, st.size - TRAILER_LENGTH, TRAILER_LENGTH));
  return t && t.token === drop.token && wholeSize(t) === st.size && t.envelopeLength <= MAX_ENVELOPE ? t : null;
}

interface Ctx {
  readonly nowSec: number;
  readonly bootSec: number | null;
  readonly pread: Pread;
}

async function takeOne(home: string, path: string, name: string, ctx: Ctx): Promise<IntakeEvent | null> {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ENOENT") return null; // gone meanwhile
    if (code === "ELOOP") return remove(path, name, "is a symbolic link");
    return incomplete(path, name, statSync(path, { throwIfNoEntry: false }), ctx, `unreadable (${errText(err)})`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return remove(path, name, "is not a regular file");
    const head = readAt(ctx.pread, fd, 0, Math.min(st.size, HEADER.length));
    const drop = parseName(name);
    if (drop && hasHeader(head)) {
      const t = wholeTrailer(fd, st, drop, ctx.pread);
      const stamp = `${st.ino}/${st.size}/${st.mtimeMs}`;
      if (t && damagedSeen.get(name) === stamp) return incomplete(path, name, st, ctx, "damaged (its checksum does not match)");
      // whole but not marked ready: its writer may still be in its fsync, and would answer 451 if that failed
      if (t && (st.mode & READY_BIT) === 0 && writerAlive(drop, st, ctx)) return null;
      if (t) {
        const r = await takeWhole(home, fd, st, t, ctx.pread);
        if (r === "damaged") {
          damagedSeen.set(name, stamp); // not streamed again on every pass while it waits for its writer to go
          return incomplete(path, name, st, ctx, "damaged (its checksum does not match)");
        }
        if (typeof r === "string") return remove(path, name, `has a bad envelope (${r})`);
        return finish(path, name, st, r);
      }
      return incomplete(path, name, st, ctx, "incomplete");
    }
    if (head[0] === 0x46) {
      const r = await takeOlder(home, fd, st, ctx.pread); // F: an older qm's finished file
      return typeof r === "string" ? remove(path, name, "is not a queue file") : finish(path, name, st, r);
    }
    // the start of a header, or zeros where a crash left blocks unwritten
    if (drop && (head.every((b, i) => b === HEADER[i]) || head.every((b) => b === 0))) return incomplete(path, name, st, ctx, "incomplete");
    return remove(path, name, "is not a queue file");
  } finally {
    closeSync(fd);
  }
}

/**
 * A file with a whole trailer: the message streamed into the queue, the
 * envelope after it, the checksum checked before the commit. "damaged" when
 * the checksum does not match; the reason when the envelope is bad.
 */
async function takeWhole(home: string, fd: number, st: Stats, t: Trailer, read: Pread): Promise<QueueResult<{ id: number }> | string> {
  let crc = crc32c(0, HEADER);
  let damaged = false;
  let bad = "";
  async function* message(): AsyncIterable<Uint8Array> {
    for (const chunk of chunks(read, fd, HEADER.length, t.messageLength)) {
      crc = crc32c(crc, chunk);
      yield chunk;
    }
  }
  const envelope = async (): Promise<QueueResult<Envelope>> => {
    let bytes: Uint8Array;
    try {
      bytes = readAt(read, fd, HEADER.length + t.messageLength, t.envelopeLength);
    } catch (err) {
      return queueFail(QQ.readError, `unable to read the maildrop file: ${errText(err)}`);
    }
    if (bytes.length !== t.envelopeLength) return queueFail(QQ.readError, "maildrop file cut short while read");
    if (crc32c(crc, bytes) !== t.crc) {
      damaged = true;
      return queueFail(QQ.readError, "maildrop file damaged");
    }
    const env = decodeEnvelope(bytes);
    if (env.kind === "ok") return env;
    bad = env.reason;
    return envelopeFail(env);
  };
  const r = await enqueue(home, message(), envelope, { uid: st.uid, who: { kind: "uid", uid: st.uid } });
  return damaged ? "damaged" : bad || r;
}

/** A file as qm wrote it before the trailer (envelope first, message to the end): it was renamed into place only when whole. */
async function takeOlder(home: string, fd: number, st: Stats, read: Pread): Promise<QueueResult<{ id: number }> | "bad"> {
  const it = chunks(read, fd, 0, st.size)[Symbol.iterator]();
  let env: QueueResult<EnvelopeRead>;
  try {
    env = await readEnvelope(async () => {
      const n = it.next();
      return n.done ? null : n.value;
    }, MAX_ENVELOPE);
  } catch (err) {
    return queueFail(QQ.readError, `unable to read the maildrop file: ${errText(err)}`);
  }
  if (env.kind !== "ok") return "bad";
  const rest = env.value.rest;
  async function* message(): AsyncIterable<Uint8Array> {
    if (rest.length > 0) yield rest;
    for (let n = it.next(); !n.done; n = it.next()) yield n.value;
  }
  return enqueue(home, message(), env.value.envelope, { uid: st.uid, who: { kind: "uid", uid: st.uid } });
}

function finish(path: string, name: string, st: Stats, r: QueueResult<{ id: number }>): IntakeEvent {
  if (r.kind === "ok") {
    unlinkQuiet(path); // queued: if this unlink fails, the next pass queues it again (a duplicate, never a loss)
    return { name, ok: true, text: `maildrop/${name} uid ${st.uid} queued as ${r.value.id}` };
  }
  if (r.kind === "perm") return remove(path, name, `cannot be queued (${r.reason})`);
  return { name, ok: false, text: `unable to queue maildrop/${name}: ${r.reason}; will try later` };
}

/** Not whole: removed only once its writer is gone, and the log says which. */
function incomplete(path: string, name: string, st: Stats | undefined, ctx: Ctx, what: string): IntakeEvent | null {
  const drop = parseName(name);
  if (!drop) return remove(path, name, "is not a queue file");
  if (!st) return null;
  const why = writerGone(drop, { nowSec: ctx.nowSec, mtimeSec: st.mtimeMs / 1000, bootSec: ctx.bootSec, pid: pidState(drop) });
  if (why === null) return null; // its writer may still be at work
  if (!unlinkQuiet(path)) return { name, ok: false, text: `unable to remove maildrop/${name}, ${what}` };
  return { name, ok: false, text: `maildrop/${name} ${what}, ${why}; removed` };
}

function remove(path: string, name: string, what: string): IntakeEvent {
  unlinkQuiet(path);
  return { name, ok: false, text: `maildrop/${name} ${what}; removed` };
}

/** The file's bytes [pos, pos + length) in chunks of at most CHUNK; each byte is read once. Ends early if the file is shorter. */
function* chunks(read: Pread, fd: number, pos: number, length: number): Iterable<Uint8Array> {
  for (let done = 0; done < length; ) {
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, length - done));
    const n = read(fd, buf, pos + done);
    if (n <= 0) throw new Error("the maildrop file was cut short while read");
    done += n;
    yield buf.subarray(0, n);
  }
}

function readAt(read: Pread, fd: number, pos: number, length: number): Uint8Array {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = read(fd, buf.subarray(got), pos + got);
    if (n <= 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/** unlink, answering whether it worked (a file already gone counts as not removed). */
export function unlinkQuiet(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}

/** True while the writer of a whole, unready file may still be at work: its pid runs, and the file was written since the system started. */
function writerAlive(drop: DropName, st: Stats, ctx: Ctx): boolean {
  if (ctx.bootSec !== null && st.mtimeMs / 1000 < ctx.bootSec - 1) return false;
  return pidState(drop) === "running";
}

/** Whether the writer named in the file's name may still run: kill(pid, 0), and on Linux the process's start time. */
function pidState(drop: DropName): "running" | "newer" | "absent" {
  if (!Number.isSafeInteger(drop.pid) || drop.pid <= 1) return "absent";
  try {
    process.kill(drop.pid, 0);
  } catch (err) {
    if ((err as { code?: string }).code === "ESRCH") return "absent";
  }
  const started = processStartMs(drop.pid);
  return started !== null && started > drop.ms + 2000 ? "newer" : "running";
}

/** /proc/<pid>/stat field 22 (start time in clock ticks after boot; USER_HZ is 100 on Linux), as Unix ms; null where unknown. */
function processStartMs(pid: number): number | null {
  const boot = bootSec();
  if (boot === null) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    const ticks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
    return Number.isFinite(ticks) ? boot * 1000 + ticks * 10 : null;
  } catch {
    return null;
  }
}

/** When the system started, in Unix seconds: /proc/stat's btime, else now minus the uptime. */
function bootSec(): number | null {
  try {
    const m = /^btime (\d+)$/m.exec(readFileSync("/proc/stat", "latin1"));
    if (m) return Number(m[1]);
  } catch {
    // not Linux
  }
  const up = uptime();
  return up > 0 ? Date.now() / 1000 - up : null;
}
