/**
 * Housekeeping of the queue manager (docs/qmail.md §2.8, qmail-clean): leftovers
 * of crashed injectors in pid/, mess files nobody owns any more, and the
 * maildrop/ files of local users, taken into the queue.
 */
import { closeSync, constants, fstatSync, openSync, readdirSync, readSync, statSync, unlinkSync, createReadStream } from "node:fs";
import { join } from "node:path";
import { decodeEnvelope, type Envelope } from "../../lib/queue/envelope.ts";
import { flatPath, parseId, splitPath, SPLIT } from "../../lib/queue/layout.ts";
import { errText } from "../base/errno.ts";
import { enqueue } from "./enqueue.ts";

/** qmail's OSSIFIED: a file untouched this long belongs to nobody (36 h). */
export const OSSIFIED = 129600;

function unlinkQuiet(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === "EPERM";
  }
}

/** pid/<pid>.<time>.<seq> of an injector that died (or older than 36 h): removed. */
export function cleanPid(queue: string, nowSec: number): number {
  let n = 0;
  let names: string[];
  try {
    names = readdirSync(join(queue, "pid"));
  } catch {
    return 0;
  }
  for (const name of names) {
    const path = join(queue, "pid", name);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) continue;
    const old = nowSec - st.mtimeMs / 1000 > OSSIFIED;
    if ((old || !alive(Number(name.split(".")[0]))) && unlinkQuiet(path)) n++;
  }
  return n;
}

/**
 * mess/ files with neither info/ nor todo/ whose last change is older than
 * 36 h: an injector died between mess/ and todo/. Removed with their intd/.
 */
export function cleanOrphans(queue: string, nowSec: number, known: (id: number) => boolean): number {
  let n = 0;
  for (let i = 0; i < SPLIT; i++) {
    let names: string[];
    try {
      names = readdirSync(join(queue, "mess", String(i)));
    } catch {
      continue;
    }
    for (const name of names) {
      const id = parseId(name);
      if (id === null || known(id)) continue;
      const st = statSync(join(queue, splitPath("mess", id)), { throwIfNoEntry: false });
      if (!st || nowSec - Math.max(st.mtimeMs, st.ctimeMs) / 1000 <= OSSIFIED) continue;
      if (statSync(join(queue, flatPath("todo", id)), { throwIfNoEntry: false })) continue;
      unlinkQuiet(join(queue, flatPath("intd", id)));
      if (unlinkQuiet(join(queue, splitPath("mess", id)))) n++;
    }
  }
  return n;
}

export type IntakeEvent = { readonly name: string; readonly ok: boolean; readonly text: string };

// An envelope longer than this in a maildrop file is refused (a user's file, hostile).
const MAX_ENVELOPE = 16 << 20;
const CHUNK = 65536;

/**
 * Takes every finished maildrop/<name> into the queue along enqueue() with
 * the file owner's uid, then unlinks it. A file that is not a regular file or
 * has a broken envelope is removed; a temporary queue failure leaves it.
 */
export async function takeMaildrop(home: string, nowSec: number, limit: number): Promise<IntakeEvent[]> {
  const dir = join(home, "queue", "maildrop");
  const events: IntakeEvent[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return events;
  }
  for (const name of names.slice(0, limit)) {
    const path = join(dir, name);
    if (name.startsWith(".")) {
      const st = statSync(path, { throwIfNoEntry: false });
      if (st && nowSec - st.mtimeMs / 1000 > OSSIFIED) unlinkQuiet(path);
      continue;
    }
    events.push(await takeOne(home, path, name));
  }
  return events;
}

async function takeOne(home: string, path: string, name: string): Promise<IntakeEvent> {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    unlinkQuiet(path);
    return { name, ok: false, text: `unable to open maildrop/${name}: ${errText(err)}; removed` };
  }
  const st = fstatSync(fd);
  const env = st.isFile() ? readEnvelope(fd) : null;
  if (!env) {
    closeSync(fd);
    unlinkQuiet(path);
    return { name, ok: false, text: `maildrop/${name} is not a queue file; removed` };
  }
  const message = createReadStream("", { fd, start: env.length, autoClose: true });
  const r = await enqueue(home, message, env.envelope, { uid: st.uid, who: { kind: "uid", uid: st.uid } });
  if ("reason" in r) return { name, ok: false, text: `unable to queue maildrop/${name}: ${r.reason}; will try later` };
  unlinkQuiet(path);
  return { name, ok: true, text: `maildrop/${name} uid ${st.uid} queued as ${r.id}` };
}

/** The fd-1 envelope at the start of a maildrop file, and its length in bytes. */
function readEnvelope(fd: number): { envelope: Envelope; length: number } | null {
  let buf = Buffer.alloc(0);
  let scanned = 0;
  let fieldStart = true;
  while (buf.length < MAX_ENVELOPE) {
    const chunk = Buffer.alloc(CHUNK);
    const n = readSync(fd, chunk, 0, CHUNK, buf.length);
    if (n === 0) return null;
    buf = Buffer.concat([buf, chunk.subarray(0, n)]);
    for (; scanned < buf.length; scanned++) {
      const c = buf[scanned];
      if (fieldStart && c === 0 && scanned > 0) {
        const env = decodeEnvelope(buf.subarray(0, scanned + 1));
        return env.kind === "ok" ? { envelope: env.value, length: scanned + 1 } : null;
      }
      fieldStart = c === 0;
    }
  }
  return null;
}
