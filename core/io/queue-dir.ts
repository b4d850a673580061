import { constants } from "node:fs";
import { link, open, unlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { toBytes } from "../lib/bytes.ts";
import { formatDate822 } from "../lib/date822.ts";
import { MAX_ADDR, type Envelope } from "../lib/envelope.ts";
import { QQ } from "../lib/queue-codes.ts";
import { flatPath, splitPath, SPLIT } from "../lib/queue-layout.ts";
import { fsyncDir } from "./sys.ts";

/** Who put the message in: the text of qmail-queue's Received line (qmail.md §1.3). */
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
}

/** The envelope, or a function that reads it once the message is on disk (qm queue reads fd 1 after fd 0). */
export type EnvelopeSource = Envelope | (() => Promise<Envelope | { code: number; reason: string }>);

/** 0 and the message id, or a qmail-queue exit code with the reason for the log. */
export type EnqueueOutcome = { readonly code: 0; readonly id: number } | { readonly code: number; readonly reason: string };

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
 * qmail-queue's straight paper path (qmail.md §1.2): pid/ -> link mess/ ->
 * write + fsync -> intd/ + fsync -> link todo/ (the commit point), with each
 * changed directory fsynced, then the trigger. On failure nothing is left in
 * todo/, and mess/intd files of this attempt are removed.
 */
export async function enqueue(home: string, message: Uint8Array | AsyncIterable<Uint8Array>, source: EnvelopeSource, opts: EnqueueOptions = {}): Promise<EnqueueOutcome> {
  const queue = join(home, "queue");
  const pid = opts.pid ?? process.pid;
  const uid = opts.uid ?? (opts.who?.kind === "uid" ? opts.who.uid : (process.getuid?.() ?? 0));
  const who = opts.who ?? { kind: "uid", uid };
  const now = (opts.now ?? Date.now)();

  const made = await makePidFile(queue, pid, now);
  if ("reason" in made) return made;
  const id = made.id;
  const mess = join(queue, splitPath("mess", id));
  const intd = join(queue, flatPath("intd", id));
  const cleanup = async (files: string[]) => { for (const f of files) await unlink(f).catch(() => {}); };
  try {
    await link(made.path, mess);
  } catch (err) {
    await made.fh.close().catch(() => {});
    await cleanup([made.path]);
    return { code: QQ.messTrouble, reason: `unable to link mess file: ${String(err)}` };
  }
  await unlink(made.path).catch(() => {});
  const written = await writeMessage(made.fh, receivedLine(pid, who, now), message);
  if (written) {
    await cleanup([mess]);
    return written;
  }
  const env = typeof source === "function" ? await source() : source;
  if ("code" in env) {
    await cleanup([mess]);
    return env;
  }
  for (const a of [env.sender, ...env.recipients]) {
    if (a.length + 1 >= MAX_ADDR || a.includes("\0")) {
      await cleanup([mess]);
      return { code: QQ.addressTooLong, reason: "address too long or contains NUL" };
    }
  }
  const info = toBytes(`u${uid}\0p${pid}\0F${env.sender}\0${env.recipients.map((r) => `T${r}\0`).join("")}`);
  let ifh: FileHandle;
  try {
    ifh = await open(intd, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  } catch (err) {
    await cleanup([mess]);
    return { code: QQ.intdTrouble, reason: `unable to create intd file: ${String(err)}` };
  }
  try {
    await ifh.write(info);
    await ifh.sync();
    await ifh.close();
    await fsyncDir(join(queue, "mess", String(id % SPLIT)));
    await fsyncDir(join(queue, "intd"));
  } catch (err) {
    await ifh.close().catch(() => {});
    await cleanup([intd, mess]);
    return { code: QQ.writeError, reason: `unable to write intd file: ${String(err)}` };
  }
  try {
    await link(intd, join(queue, flatPath("todo", id)));
    await fsyncDir(join(queue, "todo"));
  } catch (err) {
    await cleanup([intd, mess]);
    return { code: QQ.todoTrouble, reason: `unable to link todo file: ${String(err)}` };
  }
  await pullTrigger(home);
  return { code: 0, id };
}

async function makePidFile(queue: string, pid: number, now: number): Promise<{ id: number; path: string; fh: FileHandle } | { code: number; reason: string }> {
  for (let tries = 0; tries < 9; tries++) {
    const path = join(queue, "pid", `${pid}.${Math.floor(now / 1000)}.${++seq}`);
    try {
      const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
      const st = await fh.stat().catch(() => null);
      if (!st) {
        await fh.close();
        await unlink(path).catch(() => {});
        return { code: QQ.pidTrouble, reason: "unable to stat pid file" };
      }
      return { id: Number(st.ino), path, fh };
    } catch (err) {
      if ((err as { code?: string }).code !== "EEXIST") return { code: QQ.pidTrouble, reason: `unable to create pid file: ${String(err)}` };
    }
  }
  return { code: QQ.pidTrouble, reason: "unable to create a unique pid file" };
}

async function writeMessage(fh: FileHandle, received: string, message: Uint8Array | AsyncIterable<Uint8Array>): Promise<{ code: number; reason: string } | null> {
  try {
    await fh.write(toBytes(received));
    if (message instanceof Uint8Array) await fh.write(message);
    else {
      const it = message[Symbol.asyncIterator]();
      for (;;) {
        let next: IteratorResult<Uint8Array>;
        try {
          next = await it.next();
        } catch (err) {
          return { code: QQ.readError, reason: `unable to read message: ${String(err)}` };
        }
        if (next.done) break;
        await fh.write(next.value);
      }
    }
    await fh.sync();
    return null;
  } catch (err) {
    return { code: QQ.writeError, reason: `unable to write message: ${String(err)}` };
  } finally {
    await fh.close().catch(() => {});
  }
}

/** Wakes the queue manager: one byte into the FIFO lock/trigger; no reader is not an error. */
export async function pullTrigger(home: string): Promise<void> {
  try {
    const fh = await open(join(home, "queue", "lock", "trigger"), constants.O_WRONLY | constants.O_NONBLOCK);
    await fh.write(new Uint8Array(1)).catch(() => {});
    await fh.close();
  } catch {
    // ENXIO (no reader), ENOENT: the queue manager will find the message on its next scan
  }
}
