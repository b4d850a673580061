import { open, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { fromBytes } from "../../lib/base/bytes.ts";
import { flatPath, parseId, splitPath, SPLIT } from "../../lib/queue/layout.ts";
import { parseChannelFile, parseInfo, parseTodo, type QueueCounts, type QueuedMessage, type Recipient } from "../../lib/queue/qread.ts";
import { ok, type Fail, type Result } from "../../lib/base/result.ts";
import { errText, fromErrno, isMissing } from "../base/errno.ts";
import { findStatus } from "../../lib/queue/status.ts";
import { readMark } from "./hold.ts";
import { readStatus } from "./status.ts";

// Read-only views of the queue for qm qstat and qm qread. Nothing here writes.

/** Regular files under mess/*, in todo/, and finished submissions in maildrop/. */
export async function countQueue(home: string): Promise<Result<QueueCounts>> {
  const q = join(home, "queue");
  try {
    let mess = 0;
    for (let i = 0; i < SPLIT; i++) mess += await countFiles(join(q, "mess", String(i)));
    const todo = await countFiles(join(q, "todo"));
    const maildrop = await countFiles(join(q, "maildrop"), true).catch(() => 0); // write-only for most users
    return ok({ mess, todo, maildrop });
  } catch (err) {
    return fromErrno(err, "Unable to read the queue");
  }
}

/** Files under local/*, remote/* and hold/*: messages with recipients pending on each channel, and held ones (qm start --metrics). */
export async function countChannels(home: string): Promise<Result<{ local: number; remote: number; held: number }>> {
  const q = join(home, "queue");
  try {
    const n = { local: 0, remote: 0, held: 0 };
    for (let i = 0; i < SPLIT; i++) {
      n.local += await countFiles(join(q, "local", String(i)));
      n.remote += await countFiles(join(q, "remote", String(i)));
      n.held += await countFiles(join(q, "hold", String(i))).catch(() => 0); // made on first use (qm-qctl(8))
    }
    return ok(n);
  } catch (err) {
    return fromErrno(err, "Unable to read the queue");
  }
}

async function countFiles(dir: string, skipDot = false): Promise<number> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.filter((e) => e.isFile() && !(skipDot && e.name.startsWith("."))).length;
}

export type QueueEntry =
  | { readonly kind: "message"; readonly message: QueuedMessage }
  | { readonly kind: "trouble"; readonly id: number; readonly reason: string }
  | { readonly kind: "fatal"; readonly fail: Fail };

/**
 * Every message: those preprocessed (info/0..22, ids ascending), then those
 * still in todo/. One message is read at a time; a message that left the
 * queue meanwhile is skipped; other trouble with one message is reported
 * and the scan goes on; an unreadable directory ends it (fatal).
 */
export async function* scanQueue(home: string): AsyncGenerator<QueueEntry> {
  const q = join(home, "queue");
  const todo = await ids(join(q, "todo"));
  if (todo.kind !== "ok") return yield { kind: "fatal", fail: todo };
  const pending = new Set(todo.value);
  for (let i = 0; i < SPLIT; i++) {
    const info = await ids(join(q, "info", String(i)));
    if (info.kind !== "ok") return yield { kind: "fatal", fail: info };
    for (const id of info.value) if (!pending.has(id)) yield* entry(id, () => preprocessed(q, id));
  }
  for (const id of todo.value) yield* entry(id, () => notYetPreprocessed(q, id));
}

async function ids(dir: string): Promise<Result<number[]>> {
  try {
    const names = await readdir(dir);
    return ok(names.map(parseId).filter((n): n is number => n !== null).sort((a, b) => a - b));
  } catch (err) {
    return fromErrno(err, `Unable to read ${dir}`);
  }
}

async function* entry(id: number, read: () => Promise<QueuedMessage | null>): AsyncGenerator<QueueEntry> {
  try {
    const message = await read();
    if (message) yield { kind: "message", message };
  } catch (err) {
    if (!isMissing(err)) yield { kind: "trouble", id, reason: errText(err) };
  }
}

async function preprocessed(q: string, id: number): Promise<QueuedMessage | null> {
  const infoPath = join(q, splitPath("info", id));
  const [text, st, size] = [fromBytes(await readFile(infoPath)), await stat(infoPath), (await stat(join(q, splitPath("mess", id)))).size];
  const sender = parseInfo(text);
  if (sender === null) throw new Error("damaged info file");
  const birth = Math.floor(st.mtimeMs / 1000);
  const status = readStatus(q, id);
  const recipients: Recipient[] = [];
  for (const channel of ["local", "remote"] as const) {
    const path = join(q, splitPath(channel, id));
    const file = await readFile(path).catch((err: unknown) => (isMissing(err) ? null : Promise.reject(err)));
    if (!file) continue;
    const nextTry = await stat(path).then((s) => Math.floor(s.mtimeMs / 1000), () => undefined);
    for (const r of parseChannelFile(fromBytes(file), channel)) {
      const s = r.done ? null : findStatus(status, birth, channel, r.addr);
      recipients.push(r.done ? r : { ...r, nextTry, ...(s ? { attempts: s.attempts, lastTry: s.lastTry, error: s.error } : {}) });
    }
  }
  const bouncing = await stat(join(q, flatPath("bounce", id))).then(() => true, () => false);
  return { id, time: st.mtimeMs, size, sender, bouncing, held: readMark(q, id) !== null, recipients };
}

async function notYetPreprocessed(q: string, id: number): Promise<QueuedMessage | null> {
  const todoPath = join(q, flatPath("todo", id));
  const [text, st, size] = [fromBytes(await readFile(todoPath)), await stat(todoPath), (await stat(join(q, splitPath("mess", id)))).size];
  const parsed = parseTodo(text);
  if (parsed === null) throw new Error("damaged todo file");
  return { id, time: st.mtimeMs, size, sender: parsed.sender, bouncing: false, held: readMark(q, id) !== null, recipients: parsed.recipients };
}

/** One message by id, as scanQueue would list it; null when there is no such message. */
export async function readQueued(home: string, id: number): Promise<QueueEntry | null> {
  const q = join(home, "queue");
  const inTodo = await stat(join(q, flatPath("todo", id))).then(() => true, () => false);
  for await (const e of entry(id, () => (inTodo ? notYetPreprocessed(q, id) : preprocessed(q, id)))) return e;
  return null;
}

/** The message's header (up to the first empty line), at most `max` bytes of it. */
export async function readHeader(home: string, id: number, max: number): Promise<Result<string>> {
  try {
    const fh = await open(join(home, "queue", splitPath("mess", id)), "r");
    try {
      const buf = new Uint8Array(max);
      const { bytesRead } = await fh.read(buf, 0, max, 0);
      const text = fromBytes(buf.subarray(0, bytesRead));
      const end = text.search(/\r?\n\r?\n/);
      return ok(end < 0 ? text : text.slice(0, end + 1));
    } finally {
      await fh.close();
    }
  } catch (err) {
    return fromErrno(err, `Unable to read mess/${id % SPLIT}/${id}`);
  }
}
