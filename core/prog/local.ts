import { closeSync, fstatSync, openSync, readSync, statSync, constants } from "node:fs";
import { join, resolve } from "node:path";
import {
  checkArgs, dotQmailCandidates, dtLine, extParts, hostParts, newSender, parseDotQmail, programOutcome,
  rpLine, safeExt, ufLine, type Instruction,
} from "../lib/local/dot-qmail.ts";
import { describe, ok, perm, temp, type Fail, type Result } from "../lib/base/result.ts";
import { errText } from "../io/base/errno.ts";
import { deliverMaildir } from "../io/local/maildir.ts";
import { deliverMbox } from "../io/local/mbox.ts";
import { bytesSource, fdSource, headerHasLine, type MessageSource } from "../io/local/message-source.ts";
import { becomeHomeOwner } from "../io/base/privilege.ts";
import { runProgram } from "../io/local/program.ts";
import { forwardSender } from "../io/base/srs.ts";
import { submit } from "../io/queue/submit.ts";
import { readControlLine, readControlNumber } from "../io/base/control.ts";
import { parseLmtpRoute, type LmtpOutcome } from "../lib/remote/lmtp.ts";
import { deliverLmtp } from "../io/remote/lmtp.ts";
import { qmHome, uid as currentUid } from "../io/base/sys.ts";
import { encodeWorkerReply, LOCAL_EXIT, LOCAL_FIELDS, workerRequestReader, type LocalExit, type LocalRequest, WORKER_MAX_TEXT, type WorkerRequest } from "../lib/local/wire.ts";

export type { LocalRequest } from "../lib/local/wire.ts";

/** control/timeoutlocal's default, seconds: as qmail's timeoutremote. */
export const TIMEOUT_LOCAL = 1200;

export interface LocalOptions {
  /** Program output and the success summary go here (qmail-local's stdout/stderr). */
  readonly out: (text: string) => void;
  readonly qmhome?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly now?: Date;
  /** A virtual user's Maildir++ quota line (control/virtualusers), held to by its Maildir deliveries. */
  readonly quota?: string;
  /** fsyncs in the thread pool, so concurrent deliveries overlap (the worker); else in this thread (one-shot qm local). */
  readonly pooled?: boolean;
}

/** Exit status: 0 delivered, 100 permanent, 111 temporary (qmail-local). */
export type LocalOutcome = { readonly code: LocalExit };

export function requestFromArgs(args: readonly string[]): Result<LocalRequest> {
  const c = checkArgs(args);
  if (c.kind !== "ok") return c;
  return ok(Object.fromEntries(LOCAL_FIELDS.map((f, i) => [f, args[i]!])) as unknown as LocalRequest);
}

/** One delivery, as qmail-local does it; the failure text is written to `out`. */
export async function deliverLocal(req: LocalRequest, msg: MessageSource, opts: LocalOptions): Promise<LocalOutcome> {
  const r = await deliver(req, msg, opts);
  if (r.kind === "ok") {
    opts.out(r.value);
    return { code: LOCAL_EXIT.ok };
  }
  opts.out(`${describe(r)}\n`);
  return { code: LOCAL_EXIT[r.kind] };
}

interface Found {
  readonly name: string | null;
  readonly text: string;
  readonly forwardOnly: boolean;
  readonly defaultTail: string | null;
}

async function deliver(req: LocalRequest, msg: MessageSource, opts: LocalOptions): Promise<Result<string>> {
  const home = checkHome(req.home);
  if (home.kind !== "ok") return home;
  const dt = dtLine(req.local, req.domain);
  if (await headerHasLine(msg, byteString(dt))) return perm("This message is looping: it already has my Delivered-To line", "5.4.6");
  const found = findDotQmail(req);
  if (found.kind !== "ok") return found;
  const f = found.value;
  if (f.name === null && req.dash !== "") return perm("Sorry, no mailbox here by that name", "5.1.1");
  const owner = ownerFiles(req);
  if (owner.kind !== "ok") return owner;
  const ns = newSender(req.sender, req.local, req.domain, owner.value.owner, owner.value.ownerDefault);
  const useDefault = f.name === null || f.text === "";
  const text = useDefault ? `${req.defaultDelivery}\n` : f.text;
  const lines = parseDotQmail(text.endsWith("\n") ? text : `${text}\n`);
  if (lines.kind !== "ok") return lines;
  let env: NodeJS.ProcessEnv | undefined; // built when a program needs it: a copy of the environment costs more than a Maildir delivery's writes
  const ctx: Ctx = { req, msg, opts, env: () => (env ??= programEnv(req, f.defaultTail, ns, dt, opts)), dt, forwardOnly: f.forwardOnly && !useDefault };
  return run(ctx, lines.value, ns);
}

interface Ctx {
  readonly req: LocalRequest;
  readonly msg: MessageSource;
  readonly opts: LocalOptions;
  readonly env: () => NodeJS.ProcessEnv;
  readonly dt: string;
  forwardOnly: boolean;
}

async function run(ctx: Ctx, lines: Instruction[], ns: string): Promise<Result<string>> {
  const counts = { file: 0, forward: 0, program: 0 };
  const forwards: string[] = [];
  for (const ins of lines) {
    const step = await execute(ctx, ins, forwards);
    if (step.kind !== "ok") return step;
    if (ins.kind === "mbox" || ins.kind === "maildir" || ins.kind === "lmtp") counts.file++;
    if (ins.kind === "program") counts.program++;
    if (step.value === "stop") break;
  }
  let qp = "";
  if (forwards.length > 0) {
    const q = await forward(ctx, forwards, ns);
    if (q.kind !== "ok") return q;
    counts.forward = forwards.length;
    qp = `qp ${q.value}\n`;
  }
  return ok(`did ${counts.file}+${counts.forward}+${counts.program}\n${qp}`);
}

async function execute(ctx: Ctx, ins: Instruction, forwards: string[]): Promise<Result<"next" | "stop">> {
  const { req } = ctx;
  switch (ins.kind) {
    case "comment":
      return ok("next");
    case "forward-only":
      ctx.forwardOnly = true;
      return ok("next");
    case "forward":
      forwards.push(ins.address);
      return ok("next");
    case "mbox":
    case "maildir": {
      if (ctx.forwardOnly) return temp("Uh-oh: .qmail has file delivery but has x bit set", "4.7.0");
      const head = utf8(rpLine(req.sender) + ctx.dt);
      const path = resolve(req.home, ins.path);
      if (ins.kind === "maildir") {
        const qmhome = ctx.opts.qmhome ?? qmHome();
        const create = await readControlNumber(qmhome, "maildircreate", 1);
        const warn = await readControlNumber(qmhome, "quotawarn", 0);
        const quota = warn.kind !== "ok" || warn.value !== 0 ? "temp" : "perm"; // unreadable: the safe side
        const r = await deliverMaildir(path, head, ctx.msg, { create: create.kind !== "ok" || create.value !== 0, quota, limit: ctx.opts.quota || null, pooled: ctx.opts.pooled });
        return r.kind === "ok" ? ok("next") : r;
      }
      const r = await deliverMbox(path, Buffer.concat([utf8(ufLine(req.sender, ctx.opts.now ?? new Date())), head]), ctx.msg);
      return r.kind === "ok" ? ok("next") : r;
    }
    case "lmtp":
      if (ctx.forwardOnly) return temp("Uh-oh: .qmail has LMTP delivery but has x bit set", "4.7.0");
      return lmtp(ctx, ins.route);
    case "program":
      if (ctx.forwardOnly) return temp("Uh-oh: .qmail has prog delivery but has x bit set", "4.7.0");
      return program(ctx, ins.command);
  }
}

async function program(ctx: Ctx, command: string): Promise<Result<"next" | "stop">> {
  const limit = await readControlNumber(ctx.opts.qmhome ?? qmHome(), "timeoutlocal", TIMEOUT_LOCAL);
  const seconds = limit.kind === "ok" && limit.value > 0 ? limit.value : TIMEOUT_LOCAL;
  const r = await runProgram(command, ctx.req.home, ctx.env(), ctx.msg, ctx.opts.out, seconds * 1000);
  if (r.signal === "timeout") return temp(`Program timed out after ${seconds} seconds (control/timeoutlocal); its process group was killed`, "4.3.0");
  const outcome = programOutcome(r.code);
  if (outcome === "ok") return ok("next");
  if (outcome === "stop") return ok("stop");
  if (outcome === "perm") return perm(`Program exited ${r.code}: permanent failure`, "5.2.0");
  if (r.signal === "spawn") return temp("Unable to run /bin/sh", "4.3.0");
  return temp(r.code === null ? `Program was killed by ${r.signal}` : `Program exited ${r.code}: temporary failure`, "4.2.0");
}

/** A `.qmail` line `lmtp:...`: one LMTP transaction for this recipient (RECIPIENT), Delivered-To added. */
async function lmtp(ctx: Ctx, route: string): Promise<Result<"next" | "stop">> {
  const target = parseLmtpRoute(route);
  if (!target) return temp(`Unable to use .qmail line ${route.slice(0, 200).replace(/[^\x20-\x7e]/g, "?")}: not an LMTP route`, "4.2.1");
  const home = ctx.opts.qmhome ?? qmHome();
  const me = await readControlLine(home, "me", null);
  const connect = await readControlNumber(home, "timeoutconnect", 60);
  const remote = await readControlNumber(home, "timeoutremote", 1200);
  const seconds = (r: Result<number>, def: number): number => Math.max(1, r.kind === "ok" ? r.value : def) * 1000;
  const { req, msg } = ctx;
  const [o] = await deliverLmtp(target, {
    lhlo: (me.kind === "ok" && me.value) || "localhost",
    sender: byteString(req.sender),
    recipients: [byteString(`${req.local}@${req.domain}`)],
    head: utf8(ctx.dt),
    message: () => msg.chunks(),
  }, { connectMs: seconds(connect, 60), ioMs: seconds(remote, 1200) });
  return fromLmtp(o!);
}

/** An LMTP outcome as a result: the status from its (#x.y.z), else the server's enhanced code, else 4.4.2 / 5.2.0. */
function fromLmtp(o: LmtpOutcome): Result<"next" | "stop"> {
  if (o.letter === "K") return ok("next");
  const own = /\(#([45]\.\d{1,3}\.\d{1,3})\)\s*$/.exec(o.text);
  const said = /Remote host said: \d{3}[ -]([45]\.\d{1,3}\.\d{1,3})\b/.exec(o.text);
  const reason = o.text.replace(/\s*\(#[^)]*\)\s*$/, "").replace(/[.\s]+$/, "");
  const code = own?.[1] ?? said?.[1];
  if (o.letter === "D") return perm(reason, (code?.startsWith("5.") ? code : "5.2.0") as `5.${number}.${number}`);
  return temp(reason, (code?.startsWith("4.") ? code : "4.4.2") as `4.${number}.${number}`);
}

async function forward(ctx: Ctx, recipients: string[], ns: string): Promise<Result<number>> {
  const home = ctx.opts.qmhome ?? qmHome();
  const dt = utf8(ctx.dt);
  const msg = ctx.msg;
  async function* body(): AsyncIterable<Uint8Array> {
    yield dt;
    yield* msg.chunks();
  }
  const sender = await forwardSender(home, byteString(ns)); // SRS (control/srs) so the forward passes SPF
  if (sender.kind !== "ok") return wrapQq(sender);
  const r = await submit(home, body(), { sender: sender.value, recipients: recipients.map(byteString) }, { who: { kind: "uid", uid: Math.max(currentUid(), 0) }, env: ctx.opts.env });
  if (r.kind !== "ok") return wrapQq(r);
  return ok(r.value.qp);
}
function wrapQq(f: Fail): Fail {
  const reason = `Unable to forward message: ${f.reason}`;
  return f.kind === "perm" ? perm(reason, f.status) : temp(reason, f.status);
}

/** Home checks (docs/qmail.md §4.2 step 1), plus: the home must belong to the uid delivering. */
function checkHome(home: string): Result<void> {
  let st;
  try {
    st = statSync(home);
  } catch (err) {
    return temp(`Unable to switch to ${home}: ${errText(err)}`, "4.3.0");
  }
  if (!st.isDirectory()) return temp(`Unable to switch to ${home}: not a directory`, "4.3.0");
  if (st.mode & 0o002) return temp("Uh-oh: home directory is writable", "4.7.0");
  if (st.mode & 0o1000) return temp("Home directory is sticky: user is editing his .qmail file", "4.2.1");
  const me = currentUid();
  if (me >= 0 && st.uid !== me) return temp(`Home directory ${home} is not owned by uid ${me}`, "4.7.0");
  return ok(undefined);
}

const ABSENT = new Set(["ENOENT", "ENAMETOOLONG", "ENOTDIR"]);

/** The first .qmail candidate that is a regular file; its text, x bit and DEFAULT. */
function findDotQmail(req: LocalRequest): Result<Found> {
  for (const c of dotQmailCandidates(req.dash, req.ext)) {
    const r = openDotQmail(join(req.home, c.name), c.name);
    if (r.kind !== "ok") return r;
    if (r.value) return ok({ name: c.name, text: r.value.text, forwardOnly: r.value.xbit, defaultTail: c.defaultTail });
  }
  return ok({ name: null, text: "", forwardOnly: false, defaultTail: null });
}

const MAX_READ = 1 << 20;
function openDotQmail(path: string, name: string): Result<{ text: string; xbit: boolean } | null> {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if (ABSENT.has((err as { code?: string }).code ?? "")) return ok(null);
    return temp(`Unable to open ${name}: ${errText(err)}`, "4.3.0");
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return ok(null);
    if (st.mode & 0o022) return temp(`Uh-oh: ${name} is writable by group or others`, "4.7.0");
    if (st.size > MAX_READ) return temp(`${name} is too long`, "4.2.1");
    const buf = Buffer.alloc(st.size);
    let got = 0;
    for (let n = 0; n < 1000 && got < st.size; n++) {
      const k = readSync(fd, buf, got, st.size - got, got);
      if (k === 0) break;
      got += k;
    }
    return ok({ text: buf.subarray(0, got).toString("latin1"), xbit: (st.mode & 0o100) !== 0 });
  } catch (err) {
    return temp(`Unable to read ${name}: ${errText(err)}`, "4.3.0");
  } finally {
    closeSync(fd);
  }
}

function ownerFiles(req: LocalRequest): Result<{ owner: boolean; ownerDefault: boolean }> {
  const base = join(req.home, `.qmail${req.dash}${safeExt(req.ext)}-owner`);
  const owner = exists(base);
  if (owner.kind !== "ok") return owner;
  const def = owner.value ? exists(`${base}-default`) : ok(false);
  if (def.kind !== "ok") return def;
  return ok({ owner: owner.value, ownerDefault: def.value });
}
function exists(path: string): Result<boolean> {
  try {
    statSync(path);
    return ok(true);
  } catch (err) {
    if (ABSENT.has((err as { code?: string }).code ?? "")) return ok(false);
    return temp(`Unable to stat ${path}: ${errText(err)}`, "4.3.0");
  }
}

function programEnv(req: LocalRequest, defaultTail: string | null, ns: string, dt: string, opts: LocalOptions): NodeJS.ProcessEnv {
  const [ext2, ext3, ext4] = extParts(req.ext);
  const [host2, host3, host4] = hostParts(req.domain);
  const env: NodeJS.ProcessEnv = {
    ...(opts.env ?? process.env),
    SENDER: req.sender, NEWSENDER: ns, RECIPIENT: `${req.local}@${req.domain}`,
    USER: req.user, HOME: req.home, HOST: req.domain, HOST2: host2, HOST3: host3, HOST4: host4,
    LOCAL: req.local, EXT: req.ext, EXT2: ext2, EXT3: ext3, EXT4: ext4,
    DTLINE: dt, RPLINE: rpLine(req.sender), UFLINE: ufLine(req.sender, opts.now ?? new Date()),
  };
  delete env.DEFAULT;
  if (defaultTail !== null) env.DEFAULT = defaultTail;
  return env;
}

// Arguments arrive as text (argv is UTF-8); files and the queue take bytes.
function utf8(s: string): Uint8Array {
  return Buffer.from(s, "utf8");
}
function byteString(s: string): string {
  return Buffer.from(s, "utf8").toString("latin1");
}

export { bytesSource };

// --- the reused worker (qm local-worker): one uid, many deliveries ---

const WORKER_IDLE_MS = 30_000;

/** Serves requests from `input` until EOF or idleMs without work; replies through `write`. Resolves when it should exit. */
export function serveWorker(input: NodeJS.ReadableStream, write: (b: Uint8Array) => void, opts: { idleMs?: number; qmhome?: string } = {}): Promise<void> {
  if (currentUid() === 0) {
    write(encodeWorkerReply("0", LOCAL_EXIT.temp, "Not allowed to deliver as root. (#4.7.0)\n"));
    return Promise.resolve();
  }
  const read = workerRequestReader();
  return new Promise((done) => {
    let inFlight = 0;
    let ended = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (): void => {
      clearTimeout(timer);
      input.removeAllListeners("data");
      input.pause();
      done();
    };
    const arm = (): void => {
      clearTimeout(timer);
      if (ended && inFlight === 0) return finish();
      if (inFlight === 0) timer = setTimeout(finish, opts.idleMs ?? WORKER_IDLE_MS);
    };
    const handle = async (r: WorkerRequest): Promise<void> => {
      inFlight++;
      const reply = await workerDelivery(r, opts.qmhome);
      write(reply);
      inFlight--;
      arm();
    };
    input.on("data", (chunk: Buffer) => {
      clearTimeout(timer);
      for (const r of read(chunk)) {
        if ("error" in r) { ended = true; input.removeAllListeners("data"); break; }
        void handle(r);
      }
      arm();
    });
    input.on("end", () => { ended = true; arm(); });
    input.on("error", () => { ended = true; arm(); });
    arm();
  });
}

async function workerDelivery(r: WorkerRequest, qmhome: string | undefined): Promise<Uint8Array> {
  const req = requestFromArgs(r.args.map((f) => Buffer.from(f, "latin1").toString("utf8")));
  let text = "";
  const out = (t: string): void => { if (text.length < WORKER_MAX_TEXT) text += t; };
  const code = req.kind === "ok" ? (await deliverLocal(req.value, bytesSource(r.body), { out, qmhome, quota: r.quota, pooled: true })).code : LOCAL_EXIT.perm;
  if (req.kind !== "ok") out(`${describe(req)}\n`);
  return encodeWorkerReply(r.id, code, text);
}

/** `qm local`: as root, become the home's owner first; message on fd 0; returns the exit code. */
export async function deliverAsCli(args: readonly string[], out: (text: string) => void): Promise<number> {
  const req = requestFromArgs(args);
  if (req.kind !== "ok") {
    out(`${describe(req)}\n`);
    return LOCAL_EXIT.perm;
  }
  const who = await becomeHomeOwner(req.value.home, req.value.user);
  if (who.kind !== "ok") {
    out(`${describe(who)}\n`);
    return LOCAL_EXIT.temp;
  }
  const src = await fdSource(0);
  if (src.kind !== "ok") {
    out(`${describe(src)}\n`);
    return LOCAL_EXIT.temp;
  }
  process.umask(0o077);
  return (await deliverLocal(req.value, src.value, { out, quota: process.env.QM_QUOTA ?? "" })).code;
}
