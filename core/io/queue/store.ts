/**
 * The queue manager's side of the queue (docs/qmail.md §1.1, §2.2, §2.4, §2.8):
 * todo/ preprocessed into info/local/remote, channel files with T -> D
 * checkpoints, bounce/ paragraphs, completion. Synchronous on purpose: one
 * process owns these files, and each step is one small system call whose
 * order is the crash-safety argument.
 */
import { closeSync, constants, existsSync, fstatSync, fsyncSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, utimesSync, writeSync } from "node:fs";
import { join } from "node:path";
import { fsyncFd, fsyncPath, writeAll } from "../base/sys.ts";
import { unlink } from "node:fs/promises";
import { fromBytes, toBytes } from "../../lib/base/bytes.ts";
import { flatPath, parseId, splitPath, SPLIT, type SplitDir } from "../../lib/queue/layout.ts";
import type { Channel, Routed } from "../../lib/send/rewrite.ts";
import type { ChannelRecord, KnownMessage, NewMessage } from "../../lib/send/state.ts";
import { ok, temp, type Result } from "../../lib/base/result.ts";
import { errText, isMissing } from "../base/errno.ts";
import { isEmptyDsn, parseMRecord, parseNRecord, type DsnState, type RcptDsn } from "../../lib/queue/dsn.ts";
import { readDsn, writeNewDsn } from "./dsn.ts";

export type { ChannelRecord, KnownMessage, NewMessage } from "../../lib/send/state.ts";

/** Message ids in todo/ (names that are not all digits are ignored). */
export function scanTodo(queue: string): Result<number[]> {
  return listIds(join(queue, "todo"));
}

function listIds(dir: string): Result<number[]> {
  try {
    return ok(readdirSync(dir).map(parseId).filter((id): id is number => id !== null));
  } catch (err) {
    return temp(`unable to opendir ${dir}: ${errText(err)}`);
  }
}

/** Every message with an info file: info/<0..22>/<id>. */
export function scanInfo(queue: string): Result<number[]> {
  const all: number[] = [];
  for (let i = 0; i < SPLIT; i++) {
    const r = listIds(join(queue, "info", String(i)));
    if (r.kind !== "ok") return r;
    for (const id of r.value) all.push(id);
  }
  return ok(all);
}

const p = (queue: string, dir: SplitDir, id: number) => join(queue, splitPath(dir, id));

/**
 * For files that are almost never there (leftovers of a crash): a lookup
 * first, which needs no lock on the directory, where an unlink waits for the
 * directory's lock behind the thread pool's unlinks in it.
 */
function unlinkStale(path: string): void {
  if (existsSync(path)) unlinkIfThere(path);
}

/** unlink in the thread pool; a missing file is fine. */
export async function unlinkLater(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (!isMissing(err) && (err as { code?: string }).code !== "ENOTDIR") throw err;
  }
}

function unlinkIfThere(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
}

/** Writes a new file, kept open in the batch until releaseTodo() fsyncs it; returns its mtime in seconds. */
function writeNew(path: string, bytes: Uint8Array, batch: Batch): number {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  let mtime: number;
  try {
    writeAll(fd, bytes); // writeSync may write less than asked
    mtime = Math.floor(fstatSync(fd).mtimeMs / 1000);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  if (batch.fds.length < MAX_BATCH_FDS) batch.fds.push(fd);
  else {
    closeSync(fd);
    batch.files.push(path);
  }
  return mtime;
}

/** Files and directories a preprocessing batch wrote, to be made durable together. */
export interface Batch {
  /** Files still open from their writing (no second open to fsync them) ... */
  readonly fds: number[];
  /** ... and, past MAX_BATCH_FDS, files closed and fsynced by name. */
  readonly files: string[];
  readonly dirs: Set<string>;
}
export function newBatch(): Batch {
  return { fds: [], files: [], dirs: new Set() };
}
const MAX_BATCH_FDS = 512;

/**
 * todo/<id> -> info (F record) + local/remote (T records of rewritten
 * addresses). The todo entry stays; releaseTodo() fsyncs the whole batch's
 * files and directories, then removes the todo entries.
 */
export function preprocess(queue: string, id: number, route: (rcpt: string) => Routed, batch: Batch): Result<NewMessage> {
  let todo: string;
  let bytes: number;
  try {
    todo = fromBytes(readFileSync(join(queue, flatPath("todo", id))));
    bytes = statSync(p(queue, "mess", id)).size;
  } catch (err) {
    return temp(`unable to open todo/${id} or its mess file: ${errText(err)}`);
  }
  const fields = todo.split("\0");
  if (fields[fields.length - 1] === "") fields.pop();
  let uid = "?";
  let qp = "?";
  let sender: string | null = null;
  const chans: Record<Channel, string[]> = { local: [], remote: [] };
  let birth = 0;
  // qm's DSN records (docs/queue.md §4): kept in dsn/, keyed by the recipient as routed
  let m: ReturnType<typeof parseMRecord> = null;
  let n: RcptDsn | null = null;
  const rcpts = new Map<string, RcptDsn>();
  for (const f of fields) {
    const kind = f[0];
    if (kind === "u") uid = f.slice(1);
    else if (kind === "p") qp = f.slice(1);
    else if (kind === "F" && sender === null) sender = f.slice(1);
    else if (kind === "M") m = parseMRecord(f.slice(1));
    else if (kind === "N") n = parseNRecord(f.slice(1));
    else if (kind === "T") {
      const r = route(f.slice(1));
      chans[r.channel].push(`T${r.addr}\0`);
      if (n && !rcpts.has(r.addr)) rcpts.set(r.addr, n);
      n = null;
    } else return temp(`trouble reading todo/${id}: unknown record type`);
  }
  if (sender === null) return temp(`trouble reading todo/${id}: no sender`);
  const dsn: DsnState | null = isEmptyDsn({ ...m, rcpts }) ? null : { dsn: { ...m, rcpts }, warned: false, done: [] };
  try {
    for (const d of ["info", "local", "remote"] as const) unlinkStale(p(queue, d, id));
    unlinkStale(join(queue, flatPath("bounce", id))); // a stale one of an earlier message with this inode
    for (const f of [p(queue, "dsn", id), `${p(queue, "dsn", id)}.tmp`]) unlinkStale(f); // likewise
    if (dsn) {
      batch.dirs.add(writeNewDsn(queue, id, dsn.dsn));
      batch.files.push(p(queue, "dsn", id));
    }
    birth = writeNew(p(queue, "info", id), toBytes(`F${sender}\0`), batch);
    batch.dirs.add(join(queue, "info", String(id % SPLIT)));
    for (const c of ["local", "remote"] as const) {
      if (chans[c].length === 0) continue;
      writeNew(p(queue, c, id), toBytes(chans[c].join("")), batch);
      batch.dirs.add(join(queue, c, String(id % SPLIT)));
    }
  } catch (err) {
    return temp(`trouble writing info/local/remote of ${id}: ${errText(err)}`);
  }
  const channels = (["local", "remote"] as const).filter((c) => chans[c].length > 0);
  return ok({ id, sender, bytes, qp, uid, birth, channels, ...(dsn ? { dsn } : {}) });
}

/**
 * fsyncs every file and directory of a preprocessing batch (all at once, so
 * the file system can commit them together), then removes intd/ and todo/
 * of each id.
 */
export async function releaseTodo(queue: string, ids: readonly number[], batch: Batch): Promise<Result<void>> {
  const fds = batch.fds.splice(0);
  try {
    await Promise.all([...fds.map((fd) => fsyncFd(fd)), ...batch.files.map((f) => fsyncPath(f))]);
    await Promise.all([...batch.dirs].map((d) => fsyncPath(d, { directory: true })));
    batch.files.length = 0;
    batch.dirs.clear();
    // in the thread pool, intd/ before todo/ for each id (an intd/ left alone would look like an injection under way)
    await Promise.all(ids.map(async (id) => {
      await unlinkLater(join(queue, flatPath("intd", id)));
      await unlinkLater(join(queue, flatPath("todo", id)));
    }));
    return ok(undefined);
  } catch (err) {
    return temp(`unable to clean up todo files: ${errText(err)}`);
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}


/** info/<id> as found at start-up or after preprocessing; null when it vanished. */
export function readMessage(queue: string, id: number): Result<KnownMessage | null> {
  try {
    const info = p(queue, "info", id);
    const st = statSync(info, { throwIfNoEntry: false });
    if (!st) return ok(null);
    const f = fromBytes(readFileSync(info));
    const sender = f.startsWith("F") ? f.slice(1, f.indexOf("\0") < 0 ? f.length : f.indexOf("\0")) : "";
    const channels = new Map<Channel, number>();
    for (const c of ["local", "remote"] as const) {
      const cs = statSync(p(queue, c, id), { throwIfNoEntry: false });
      if (cs) channels.set(c, Math.floor(cs.mtimeMs / 1000));
    }
    const dsn = readDsn(queue, id);
    if (dsn.kind !== "ok") return dsn;
    return ok({ id, birth: Math.floor(st.mtimeMs / 1000), sender, channels, ...(dsn.value ? { dsn: dsn.value } : {}) });
  } catch (err) {
    return temp(`unable to stat info/${id}: ${errText(err)}`);
  }
}

export function hasTodo(queue: string, id: number): boolean {
  return existsSync(join(queue, flatPath("todo", id)));
}

/** A channel file's records with their byte offsets; D records are done. */
export function readChannel(queue: string, chan: Channel, id: number): Result<ChannelRecord[]> {
  let text: string;
  try {
    text = fromBytes(readFileSync(p(queue, chan, id)));
  } catch (err) {
    if (isMissing(err)) return ok([]);
    return temp(`unable to open ${chan}/${id}: ${errText(err)}`);
  }
  const out: ChannelRecord[] = [];
  let at = 0;
  while (at < text.length) {
    const end = text.indexOf("\0", at);
    if (end < 0) break; // a cut record was never written by us: ignore it
    const kind = text[at];
    if (kind === "T" || kind === "D") out.push({ offset: at, addr: text.slice(at + 1, end), done: kind === "D" });
    at = end + 1;
  }
  return ok(out);
}

/** The checkpoint: the record's T becomes D, in place, before anything else happens. */
export function markDone(queue: string, chan: Channel, id: number, offset: number): Result<void> {
  try {
    const fd = openSync(p(queue, chan, id), constants.O_WRONLY);
    try {
      writeSync(fd, "D", offset);
    } finally {
      closeSync(fd);
    }
    return ok(undefined);
  } catch (err) {
    return temp(`trouble marking ${chan}/${id}: ${errText(err)}`);
  }
}

/** Remembers the next retry as the channel file's mtime (read back at start-up). */
export function setRetry(queue: string, chan: Channel, id: number, at: number): void {
  try {
    utimesSync(p(queue, chan, id), at, at);
  } catch {
    // only a hint for the next start-up
  }
}

export function removeChannel(queue: string, chan: Channel, id: number): Result<void> {
  try {
    unlinkIfThere(p(queue, chan, id));
    return ok(undefined);
  } catch (err) {
    return temp(`unable to unlink ${chan}/${id}: ${errText(err)}`);
  }
}

/** Appends one QSBMF paragraph to bounce/<id>, durably (a D mark follows it): a new file's name too, by an fsync of bounce/. */
export function appendBounce(queue: string, id: number, paragraph: string): Result<void> {
  try {
    const path = join(queue, flatPath("bounce", id));
    const existed = existsSync(path);
    const fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
    try {
      writeAll(fd, toBytes(paragraph));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (!existed) fsyncDirSync(join(queue, "bounce"));
    return ok(undefined);
  } catch (err) {
    return temp(`unable to append to bounce/${id}: ${errText(err)}`);
  }
}

/** bounce/<id>, or null when the message had no failures. */
export function readBounce(queue: string, id: number): Result<string | null> {
  try {
    if (!statSync(join(queue, flatPath("bounce", id)), { throwIfNoEntry: false })) return ok(null); // the usual case, without a failed open's error
    return ok(fromBytes(readFileSync(join(queue, flatPath("bounce", id)))));
  } catch (err) {
    return isMissing(err) ? ok(null) : temp(`unable to read bounce/${id}: ${errText(err)}`);
  }
}

export function removeBounce(queue: string, id: number): void {
  try {
    unlinkIfThere(join(queue, flatPath("bounce", id)));
  } catch {
    // a leftover bounce file of a finished message is harmless: its id is reused only with a new info file
  }
}

/** The message's mess file, for the spawners and the bounce. */
export function messPath(queue: string, id: number): string {
  return p(queue, "mess", id);
}

/**
 * A finished message's files, in the order they go: dsn (and its tmp file)
 * and intd while mess still holds the inode (so none of them can be a new
 * message's), then mess, and info last. A crash in between leaves an info
 * file without channel files, which the next start finishes; the other order
 * would leave a mess file that only its age can tell from one being queued.
 * `seldom`: files a message rarely has by then.
 */
export function finishPaths(queue: string, id: number): { readonly seldom: readonly string[]; readonly always: readonly string[] } {
  const dsn = p(queue, "dsn", id);
  return { seldom: [dsn, `${dsn}.tmp`, join(queue, flatPath("intd", id))], always: [p(queue, "mess", id), p(queue, "info", id)] };
}

/** Removes a finished message's files (finishPaths); qm send does the same in the thread pool (retire.ts). */
export function finishMessage(queue: string, id: number): Result<void> {
  const f = finishPaths(queue, id);
  try {
    for (const path of [...f.seldom, ...f.always]) unlinkIfThere(path);
    return ok(undefined);
  } catch (err) {
    return temp(`unable to unlink files of ${id}: ${errText(err)}`);
  }
}

function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
