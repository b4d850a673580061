import type { ChildProcess } from "node:child_process";
import { closeSync, fstatSync, openSync, readSync, constants } from "node:fs";
import { resolve } from "node:path";
import { encodeWorkerRequest, localArgs, localOutcome, workerReplyReader, WORKER_MAX_BODY, type WorkerReply } from "../lib/local/wire.ts";
import { type Assignment } from "../lib/local/assign.ts";
import { runSpawnLoop } from "../lib/send/spawn-loop.ts";
import type { Command, Outcome } from "../lib/send/spawn-wire.ts";
import { readControlLine } from "../io/base/control.ts";
import { changedControls, stampControls } from "../io/base/control-stamp.ts";
import { reloadLine } from "../lib/base/reload.ts";
import { resolveLocal, type ResolveError } from "../io/local/users.ts";
import { spawnSelf } from "../io/base/self.ts";
export { exitWhenOrphaned } from "../io/base/parent.ts";

// qm lspawn (qmail-lspawn, docs/qmail.md §3.1): commands from qm send on stdin,
// K/Z/D reports on stdout (the spawn loop, core/lib/send/spawn-loop.ts).
// Deliveries run as the recipient's uid through a reused per-uid
// `qm local-worker`, or one `qm local` for a large message. Never as uid 0.

const WORKER_RETIRE_MS = 20_000; // before the worker's own 30 s idle exit, so no request races it
const REPORT_MAX = 3000;
const NOTE = "\n[report too long; truncated]";

export interface LspawnOptions {
  readonly qmhome: string;
  readonly defaultDelivery?: string;
  /** lspawn's own lines (its reload line); default: stderr, which qm send passes on */
  readonly note?: (line: string) => void;
  /** True once qm send has died (core/io/base/parent.ts): start nothing more. */
  readonly orphaned?: () => boolean;
}

/** The control files lspawn reads: defaultdelivery at start and on reload; the others (io/local/users.ts) whenever they change, for every delivery. */
const LSPAWN_FILES = ["defaultdelivery", "extdelimiters", "virtualusers", "virtualdomains"] as const;

/** Serves send's commands until stdin ends and every delivery has reported, or qm send has died. */
export async function lspawn(input: NodeJS.ReadableStream, write: (b: Uint8Array) => void, opts: LspawnOptions): Promise<void> {
  const note = opts.note ?? ((l: string) => void process.stderr.write(`${l}\n`));
  let dd = Promise.resolve(opts.defaultDelivery ?? (await defaultDelivery(opts.qmhome)));
  let stamps = stampControls(opts.qmhome, LSPAWN_FILES);
  const pool = new WorkerPool();
  await runSpawnLoop(input as AsyncIterable<Buffer>, write, {
    refuse: (c) => (c.recipient.includes("@") ? null : { letter: "D", text: "Sorry, address must include host name. (#5.1.3)\n" }),
    reload: () => {
      // a default delivery given on the command line stays; control/defaultdelivery is read again
      if (opts.defaultDelivery === undefined) dd = defaultDelivery(opts.qmhome);
      void dd.then(() => {
        const now = stampControls(opts.qmhome, LSPAWN_FILES);
        note(reloadLine("lspawn", changedControls(stamps, now)));
        stamps = now;
      });
    },
    deliver: async ([c]) => [await deliver(c!, opts.qmhome, await dd, pool)],
    internalError: { letter: "Z", text: "Unable to deliver: qm lspawn internal error. (#4.3.0)\n" },
    clip: truncate,
    orphaned: opts.orphaned,
  });
  pool.closeAll();
}

async function defaultDelivery(qmhome: string): Promise<string> {
  const r = await readControlLine(qmhome, "defaultdelivery", "./Maildir/");
  return r.kind === "ok" && r.value ? r.value : "./Maildir/";
}

function truncate(text: string): string {
  const upToNul = text.split("\0")[0]!;
  return upToNul.length <= REPORT_MAX ? upToNul : upToNul.slice(0, REPORT_MAX - NOTE.length - 3) + NOTE;
}

const RESOLVE_TEXT = new Map<ResolveError, string>([
  ["cdb", "Trouble reading users/cdb in qm lspawn. (#4.3.0)\n"],
  ["nfs", "Temporary failure in qm lspawn: unable to stat the home directory (NFS?). (#4.3.0)\n"],
  ["noalias", "Unable to find alias user! (#4.3.0)\n"],
  ["sys", "Temporary failure in qm lspawn. (#4.3.0)\n"],
]);

async function deliver({ path, sender, recipient: rcpt }: Command, qmhome: string, dd: string, pool: WorkerPool): Promise<Outcome> {
  const at = rcpt.lastIndexOf("@");
  const local = rcpt.slice(0, at);
  const domain = rcpt.slice(at + 1);
  const msg = openMessage(path, qmhome);
  if (typeof msg === "string") return { letter: "Z", text: msg };
  try {
    if (local === "") return { letter: "K", text: "" };
    const who = await resolveLocal(qmhome, text(local), { domain: text(domain) });
    if (who.kind !== "ok") {
      return { letter: "Z", text: `${RESOLVE_TEXT.get(who.code)!.slice(0, -1)} ${who.reason.replace(/\n/g, " ")}\n` };
    }
    const a = who.value;
    if (a.uid === 0) return { letter: "Z", text: "Not allowed to perform deliveries as root. (#4.3.0)\n" };
    const args = localArgs({ user: a.user, home: a.home, local: text(local), dash: a.dash, ext: a.ext, domain: text(domain), sender: text(sender), defaultDelivery: a.mailbox ?? dd });
    const quota = a.quota ?? "";
    const e = msg.size <= WORKER_MAX_BODY ? await pool.deliver(a, args, readAll(msg.fd, msg.size), quota) : await oneShot(a, args, msg.fd, quota);
    return localOutcome(e.code, e.text);
  } finally {
    closeSync(msg.fd);
  }
}

/** Fields are byte strings; argv and the worker take text (UTF-8). */
function text(s: string): string {
  return Buffer.from(s, "latin1").toString("utf8");
}

function openMessage(path: string, qmhome: string): { fd: number; size: number } | string {
  const messDir = resolve(qmhome, "queue", "mess") + "/";
  if (path.includes("/../") || path.length > 4000 || !resolve(path).startsWith(messDir)) return "Message path is not in the queue. (#4.3.0)\n";
  try {
    const fd = openSync(resolve(path), constants.O_RDONLY | constants.O_NOFOLLOW);
    const st = fstatSync(fd);
    if (!st.isFile()) { closeSync(fd); return "Message is not a regular file. (#4.3.0)\n"; }
    return { fd, size: st.size };
  } catch {
    return "Unable to open message file. (#4.3.0)\n";
  }
}

function readAll(fd: number, size: number): Uint8Array {
  const buf = new Uint8Array(size);
  for (let got = 0, n = 0; got < size && n < 100_000; n++) {
    const k = readSync(fd, buf, got, size - got, got);
    if (k === 0) return buf.subarray(0, got);
    got += k;
  }
  return buf;
}

type Exit = Omit<WorkerReply, "id">;

function oneShot(a: Assignment, args: string[], fd: number, quota: string): Promise<Exit> {
  return new Promise((resolve) => {
    const env = { ...process.env, QM_QUOTA: quota };
    const child = spawnSelf("local", args, { uid: a.uid, gid: a.gid, stdio: [fd, "pipe", "pipe"], env });
    let out = "";
    const add = (b: Buffer): void => { if (out.length < 65536) out += b.toString("latin1"); };
    child.stdout?.on("data", add);
    child.stderr?.on("data", add);
    child.on("error", () => resolve({ code: null, text: "Unable to run qm local. " }));
    child.on("close", (code) => resolve({ code, text: out }));
  });
}

interface Worker {
  readonly child: ChildProcess;
  readonly waiting: Map<string, (e: Exit) => void>;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** One `qm local-worker` per uid:gid, retired when idle. */
class WorkerPool {
  #workers = new Map<string, Worker>();
  #next = 0;

  deliver(a: Assignment, args: string[], body: Uint8Array, quota: string): Promise<Exit> {
    const w = this.#get(a);
    const id = String(++this.#next);
    clearTimeout(w.timer);
    return new Promise((resolve) => {
      w.waiting.set(id, resolve);
      w.child.stdin?.write(encodeWorkerRequest(id, args, body.length, quota));
      w.child.stdin?.write(body);
    });
  }

  closeAll(): void {
    for (const w of this.#workers.values()) w.child.stdin?.end();
    this.#workers.clear();
  }

  #get(a: Assignment): Worker {
    const key = `${a.uid}:${a.gid}`;
    const have = this.#workers.get(key);
    if (have) return have;
    const child = spawnSelf("local-worker", [], { uid: a.uid, gid: a.gid, stdio: ["pipe", "pipe", "pipe"] });
    const w: Worker = { child, waiting: new Map(), timer: undefined };
    this.#workers.set(key, w);
    const read = workerReplyReader();
    let errText = "";
    child.stderr?.on("data", (b: Buffer) => { if (errText.length < 2000) errText += b.toString("latin1"); });
    child.stdout?.on("data", (b: Buffer) => {
      for (const r of read(b)) {
        const done = w.waiting.get(r.id);
        w.waiting.delete(r.id);
        done?.(r);
      }
      if (w.waiting.size === 0) this.#idle(key, w);
    });
    child.stdin?.on("error", () => {});
    const gone = (): void => {
      if (this.#workers.get(key) === w) this.#workers.delete(key);
      for (const done of w.waiting.values()) done({ code: null, text: errText });
      w.waiting.clear();
    };
    child.on("error", gone);
    child.on("close", gone);
    return w;
  }

  #idle(key: string, w: Worker): void {
    clearTimeout(w.timer);
    w.timer = setTimeout(() => {
      if (w.waiting.size > 0) return;
      if (this.#workers.get(key) === w) this.#workers.delete(key);
      w.child.stdin?.end();
    }, WORKER_RETIRE_MS);
    w.timer.unref?.();
  }
}
