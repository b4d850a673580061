/**
 * `qm send`: the queue manager (qmail-send with qmail-clean's jobs; docs/qmail.md
 * §2). Preprocesses todo/ into info/local/remote, hands one recipient at a
 * time to the two spawners within the concurrency limits, checkpoints every
 * result, retries on qmail's schedule, bounces, and cleans up.
 */
import { join } from "node:path";
import { bounceParagraph } from "../lib/send/bounce.ts";
import { newPrioq, popQ, pushQ, rescheduleAll, type Prioq } from "../lib/send/prioq.ts";
import { ok, temp, type Result } from "../lib/base/result.ts";
import { bounceRecipient, rewrite, verpSender, type Channel } from "../lib/send/rewrite.ts";
import { isDying, nextRetry } from "../lib/send/schedule.ts";
import { line } from "../lib/send/log.ts";
import type { Report } from "../lib/send/spawn-wire.ts";
import type { ChannelRecord, Msg, Pass, Slot, Summary } from "../lib/send/state.ts";
import { injectBounce } from "../io/queue/bounce.ts";
import { cleanOrphans, cleanPid, takeMaildrop } from "../io/queue/clean.ts";
import * as store from "../io/queue/store.ts";
import { readRules, readSendControls, type SendControls } from "../io/send/controls.ts";
import { dropToQueueOwner, remoteUser, Spawner } from "../io/send/spawner.ts";
import { openTrigger, takeSendMutex, type Trigger } from "../io/queue/trigger.ts";

export type { Summary } from "../lib/send/state.ts";

export interface SendOptions {
  readonly home: string;
  /** A queue run (cron): stop when nothing more is due. */
  readonly once?: boolean;
  /** With once: every delivery now, due or not. */
  readonly force?: boolean;
  /** Log lines (qm-log(5)); one call per line. */
  readonly out: (line: string) => void;
  /** Milliseconds since the epoch; injectable for retry tests. */
  readonly clock?: () => number;
  readonly env?: NodeJS.ProcessEnv;
}

export interface SendHandle {
  readonly done: Promise<Result<Summary>>;
  term(): void;
  hup(): void;
  alrm(): void;
}

interface Chan {
  readonly name: Channel;
  readonly limit: number;
  readonly queue: Prioq;
  readonly open: Pass[];
  readonly slots: (Slot | null)[];
  readonly free: number[];
  inflight: number;
  spawner: Spawner | null;
}

const SLEEP_SYSFAIL = 123; // s: retry after a file system failure
const RESCAN = 1500; // s: todo/ is rescanned even without a trigger
const CLEANUP = 76431; // s: orphaned mess files
const TERM_GRACE = 60_000; // ms: deliveries under way get this long after SIGTERM
const TODO_BATCH = 100;
const DYING_NOTE = "Giving up: the message has been in the queue longer than queuelifetime.\n";

/** Starts the queue manager; `done` settles when it stops (SIGTERM, a queue run's end, or a fatal error). */
export function startSend(opts: SendOptions): SendHandle {
  let settle!: (r: Result<Summary>) => void;
  const done = new Promise<Result<Summary>>((r) => (settle = r));
  const s = new SendState(opts, settle);
  void s.start();
  return { done, term: () => s.term(), hup: () => void s.hup(), alrm: () => s.alrm() };
}

class SendState {
  readonly o: SendOptions;
  readonly queue: string;
  readonly clock: () => number;
  readonly env: NodeJS.ProcessEnv;
  readonly settle: (r: Result<Summary>) => void;
  c!: SendControls;
  chans!: Record<Channel, Chan>;
  msgs = new Map<number, Msg>();
  sum: Summary = { deliveries: 0, success: 0, failure: 0, deferral: 0, done: 0, left: 0 };
  delivery = 0;
  stopping = false;
  finished = false;
  todoRunning = false;
  todoAgain = false;
  completing = 0;
  timer: NodeJS.Timeout | null = null;
  timerAt = Infinity;
  periodic: NodeJS.Timeout[] = [];
  trigger: Trigger | null = null;
  mutex: { release(): void } | null = null;

  constructor(o: SendOptions, settle: (r: Result<Summary>) => void) {
    this.o = o;
    this.queue = join(o.home, "queue");
    this.clock = o.clock ?? Date.now;
    this.env = o.env ?? process.env;
    this.settle = settle;
  }

  now = (): number => Math.floor(this.clock() / 1000);
  log = (s: string): void => this.o.out(s);
  status(): void {
    const { local, remote } = this.chans;
    this.log(line.status({ local: local.inflight, localMax: local.limit, remote: remote.inflight, remoteMax: remote.limit, exiting: this.stopping }));
  }

  async start(): Promise<void> {
    const fail = (why: string) => {
      this.log(line.alert(`cannot start: ${why}`));
      this.mutex?.release();
      this.settle(temp(`cannot start: ${why}`));
    };
    const c = await readSendControls(this.o.home);
    if (c.kind !== "ok") return fail(c.reason);
    this.c = c.value;
    const mutex = takeSendMutex(this.queue);
    if (mutex.kind !== "ok") return fail(mutex.reason);
    this.mutex = mutex.value;
    const mk = (name: Channel): Chan => ({ name, limit: this.c.concurrency[name], queue: newPrioq(), open: [], slots: [], free: [], inflight: 0, spawner: null });
    this.chans = { local: mk("local"), remote: mk("remote") };
    for (const ch of Object.values(this.chans)) for (let i = ch.limit - 1; i >= 0; i--) ch.free.push(i);
    await this.startSpawners();
    dropToQueueOwner(this.queue);
    this.loadQueue();
    this.status();
    if (!this.o.once) {
      const t = await openTrigger(this.queue, () => void this.runTodo());
      if (t.kind !== "ok") return fail(t.reason);
      this.trigger = t.value;
      this.periodic.push(setInterval(() => void this.runTodo(), RESCAN * 1000));
      this.periodic.push(setInterval(() => this.cleanup(), CLEANUP * 1000));
    }
    for (const ch of Object.values(this.chans)) this.pump(ch);
    await this.runTodo();
  }

  async startSpawners(): Promise<void> {
    const ids = await remoteUser(this.env);
    for (const ch of Object.values(this.chans)) {
      const command = ch.name === "local" ? this.env.QM_LSPAWN : this.env.QM_RSPAWN;
      if (ch.limit === 0 && !command) continue;
      const sub = ch.name === "local" ? "lspawn" : "rspawn";
      ch.spawner = new Spawner(sub, (r) => this.report(ch, r), (why) => void this.stop(why), { command, env: this.env, ...(ch.name === "remote" ? ids : {}) });
    }
  }

  /** Start-up: pid/ leftovers, then every message with an info file and no todo file. */
  loadQueue(): void {
    const nowSec = this.now();
    cleanPid(this.queue, nowSec);
    const ids = store.scanInfo(this.queue);
    if (ids.kind !== "ok") this.log(line.alert(`${ids.reason}, sleeping...`));
    for (const id of ids.kind === "ok" ? ids.value : []) {
      if (store.hasTodo(this.queue, id)) continue;
      const m = store.readMessage(this.queue, id);
      if (m.kind !== "ok") {
        this.log(line.warning(m.reason));
        continue;
      }
      if (!m.value) continue;
      const msg: Msg = { id, birth: m.value.birth, sender: m.value.sender, pending: new Set(m.value.channels.keys()), completing: false };
      this.msgs.set(id, msg);
      for (const [chan, at] of m.value.channels) pushQ(this.chans[chan].queue, this.o.force ? nowSec : at, id);
      if (msg.pending.size === 0) void this.complete(msg);
    }
    this.cleanup();
  }

  cleanup(): void {
    cleanOrphans(this.queue, this.now(), (id) => this.msgs.has(id));
  }

  /** maildrop/ then todo/: preprocessed in batches, each batch made durable before its todo files go. */
  async runTodo(): Promise<void> {
    if (this.todoRunning) {
      this.todoAgain = true;
      return;
    }
    this.todoRunning = true;
    do {
      this.todoAgain = false;
      if (this.stopping) break;
      for (const e of await takeMaildrop(this.o.home, this.now(), 10000)) if (!e.ok) this.log(line.warning(e.text));
      const ids = store.scanTodo(this.queue);
      if (ids.kind !== "ok") {
        this.log(line.warning(ids.reason));
        break;
      }
      for (let i = 0; i < ids.value.length && !this.stopping; i += TODO_BATCH) {
        await this.todoBatch(ids.value.slice(i, i + TODO_BATCH));
      }
    } while (this.todoAgain);
    this.todoRunning = false;
    this.checkIdle();
  }

  async todoBatch(ids: number[]): Promise<void> {
    const batch = store.newBatch();
    const made: store.NewMessage[] = [];
    let failed = false;
    for (const id of ids) {
      if (this.msgs.has(id)) continue;
      const r = store.preprocess(this.queue, id, (a) => rewrite(a, this.c.rules), batch);
      if (r.kind !== "ok") this.log(line.warning(r.reason));
      else made.push(r.value);
      failed ||= r.kind !== "ok";
    }
    // qmail-send: a todo/ entry that failed (disk full...) is tried again after SLEEP_SYSFAIL, not at the next rescan
    if (failed && !this.o.once) setTimeout(() => void this.runTodo(), SLEEP_SYSFAIL * 1000).unref();
    const released = await store.releaseTodo(this.queue, made.map((m) => m.id), batch);
    if (released.kind !== "ok") return this.log(line.warning(released.reason)); // todo/ stays: redone later
    const nowSec = this.now();
    for (const m of made) {
      this.log(line.newMsg(m.id));
      this.log(line.infoMsg(m.id, m.bytes, m.sender, m.qp, m.uid));
      const msg: Msg = { id: m.id, birth: m.birth, sender: m.sender, pending: new Set(m.channels), completing: false };
      this.msgs.set(m.id, msg);
      for (const ch of m.channels) pushQ(this.chans[ch].queue, nowSec, m.id);
      if (m.channels.length === 0) void this.complete(msg);
    }
    for (const ch of Object.values(this.chans)) this.pump(ch);
  }

  /** Starts deliveries while the channel has room: the open pass first, then the next message due. */
  pump(ch: Chan): void {
    const nowSec = this.now();
    while (!this.stopping && ch.inflight < ch.limit && ch.spawner) {
      const pass = ch.open[0];
      if (pass && pass.next < pass.records.length) {
        const rec = pass.records[pass.next++]!;
        if (!rec.done) this.deliver(ch, pass, rec);
        continue;
      }
      if (pass) {
        ch.open.shift();
        this.maybeFinish(pass);
        continue;
      }
      const e = ch.queue.heap[0];
      if (!e || e.at > nowSec) break;
      popQ(ch.queue);
      this.openPass(ch, e.id, nowSec);
    }
    this.armTimer();
  }

  openPass(ch: Chan, id: number, nowSec: number): void {
    const msg = this.msgs.get(id);
    if (!msg || !msg.pending.has(ch.name)) return;
    const recs = store.readChannel(this.queue, ch.name, id);
    if (recs.kind !== "ok") {
      this.log(line.warning(recs.reason));
      pushQ(ch.queue, nowSec + SLEEP_SYSFAIL, id);
      return;
    }
    const dying = isDying(msg.birth, nowSec, this.c.lifetime);
    ch.open.push({ msg, chan: ch.name, records: recs.value, next: 0, inflight: 0, deferred: false, finished: false, removed: false, dying, retryAt: nextRetry(msg.birth, nowSec, ch.name) });
  }

  deliver(ch: Chan, pass: Pass, rec: ChannelRecord): void {
    const slot = ch.free.pop()!;
    const d = ++this.delivery;
    ch.slots[slot] = { pass, rec, d };
    ch.inflight++;
    pass.inflight++;
    this.sum.deliveries++;
    ch.spawner!.send(slot, store.messPath(this.queue, pass.msg.id), verpSender(pass.msg.sender, rec.addr), rec.addr);
    this.log(line.starting(d, pass.msg.id, ch.name, rec.addr));
    this.status();
  }

  /** One delivery result: logged, checkpointed on disk, and only then anything else. */
  report(ch: Chan, r: Report): void {
    const slot = r.slot >= 0 && r.slot < ch.limit ? ch.slots[r.slot] : null;
    if (!slot) {
      this.log(line.warning("internal error: delivery report out of range"));
      return;
    }
    ch.slots[r.slot] = null;
    ch.free.push(r.slot);
    const { pass, rec, d } = slot;
    let letter = r.letter;
    let text = r.text;
    if (letter === "Z" && pass.dying) {
      letter = "D";
      text = `${text}${text === "" || text.endsWith("\n") ? "" : "\n"}${DYING_NOTE}`;
    }
    if (letter === "K") {
      this.sum.success++;
      this.log(line.success(d, text));
      this.mark(pass, rec);
    } else if (letter === "D") {
      this.sum.failure++;
      this.log(line.failure(d, text));
      const b = store.appendBounce(this.queue, pass.msg.id, bounceParagraph(bounceRecipient(rec.addr, this.c.rules), text));
      if (b.kind === "ok") this.mark(pass, rec);
      else {
        this.log(line.alert(`${b.reason}; will try again later`));
        pass.deferred = true;
      }
    } else {
      this.sum.deferral++;
      this.log(letter === "Z" ? line.deferral(d, text) : line.mangled(d));
      pass.deferred = true;
    }
    ch.inflight--;
    pass.inflight--;
    this.status();
    this.maybeFinish(pass);
    this.pump(ch);
    this.checkIdle();
  }

  /** The checkpoint; for the last result of a pass with nothing deferred, removing the channel file is it. */
  mark(pass: Pass, rec: ChannelRecord): void {
    if (pass.inflight === 1 && pass.next >= pass.records.length && !pass.deferred) {
      pass.removed = store.removeChannel(this.queue, pass.chan, pass.msg.id).kind === "ok";
      if (pass.removed) return;
    }
    const m = store.markDone(this.queue, pass.chan, pass.msg.id, rec.offset);
    if (m.kind !== "ok") this.log(line.warning(`${m.reason}; recipient ${rec.addr} may get a duplicate`));
  }

  maybeFinish(pass: Pass): void {
    if (pass.finished || pass.inflight > 0 || pass.next < pass.records.length) return;
    pass.finished = true;
    const ch = this.chans[pass.chan];
    const id = pass.msg.id;
    if (pass.deferred) {
      store.setRetry(this.queue, pass.chan, id, pass.retryAt);
      pushQ(ch.queue, pass.retryAt, id);
      return;
    }
    const rm = pass.removed ? ({ kind: "ok" } as const) : store.removeChannel(this.queue, pass.chan, id);
    if (rm.kind !== "ok") {
      this.log(line.warning(rm.reason));
      pushQ(ch.queue, this.now() + SLEEP_SYSFAIL, id);
      return;
    }
    pass.msg.pending.delete(pass.chan);
    if (pass.msg.pending.size === 0) void this.complete(pass.msg);
  }

  /** Message done: its bounce (if any) goes into the queue first, then its files go. */
  async complete(msg: Msg): Promise<void> {
    if (msg.completing) return;
    msg.completing = true;
    this.completing++;
    const b = await this.injectBounce(msg);
    this.completing--;
    msg.completing = false;
    if (!b) {
      if (!this.o.once) setTimeout(() => void this.complete(msg), SLEEP_SYSFAIL * 1000).unref();
      this.checkIdle();
      return;
    }
    this.log(line.endMsg(msg.id));
    const f = store.finishMessage(this.queue, msg.id);
    if (f.kind !== "ok") this.log(line.warning(f.reason));
    this.msgs.delete(msg.id);
    this.sum.done++;
    this.status();
    if (b === "sent") void this.runTodo(); // a queue run delivers the bounces it made; the daemon hears the trigger too
    this.checkIdle();
  }

  async injectBounce(msg: Msg): Promise<"none" | "sent" | null> {
    const r = await injectBounce({ home: this.o.home, id: msg.id, sender: msg.sender, controls: this.c.bounce, nowMs: this.clock(), env: this.env });
    if (r.kind !== "ok") {
      this.log(line.warning(`trouble injecting bounce message, will try later: ${r.reason}`));
      return null;
    }
    if (r.value.kind === "triple") this.log(line.tripleBounce(msg.id));
    if (r.value.kind !== "sent") return "none";
    this.log(line.bounceMsg(msg.id, r.value.qp));
    return "sent";
  }

  /** One timer, for the earliest retry that falls due (never a poll for new mail). */
  armTimer(): void {
    if (this.o.once || this.stopping) return;
    let at = Infinity;
    for (const ch of Object.values(this.chans)) {
      const e = ch.queue.heap[0];
      if (e && ch.inflight < ch.limit) at = Math.min(at, e.at);
    }
    if (at === this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = at;
    if (at === Infinity) return;
    const ms = Math.min(Math.max(0, (at - this.now()) * 1000 + 1000), 86400_000);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      for (const ch of Object.values(this.chans)) this.pump(ch);
    }, ms);
  }

  /** A queue run ends when nothing runs and nothing more is due; SIGTERM when deliveries are over. */
  checkIdle(): void {
    if (this.finished) return;
    const busy = this.todoRunning || this.completing > 0 || Object.values(this.chans).some((ch) => ch.inflight > 0);
    if (busy) return;
    if (this.stopping) return void this.stop();
    if (!this.o.once) return;
    const nowSec = this.now();
    const due = Object.values(this.chans).some((ch) => ch.limit > 0 && ch.spawner && (ch.open.length > 0 || (ch.queue.heap[0]?.at ?? Infinity) <= nowSec));
    if (!due) void this.stop();
  }

  async stop(lostWhy?: string): Promise<void> {
    if (this.finished) return;
    this.finished = this.stopping = true;
    if (lostWhy) this.log(line.alert(`oh no! lost spawn connection! dying... (${lostWhy})`));
    if (this.timer) clearTimeout(this.timer);
    for (const t of this.periodic) clearInterval(t);
    this.trigger?.close();
    await Promise.all(Object.values(this.chans).map((ch) => ch.spawner?.close(lostWhy ? 1000 : 5000)));
    if (!lostWhy) this.log(line.exiting());
    this.mutex?.release();
    this.sum.left = this.msgs.size;
    this.settle(lostWhy ? temp(`lost spawn connection: ${lostWhy}`) : ok(this.sum));
  }

  term(): void {
    if (this.stopping) return;
    this.stopping = true; // during start-up: start() stops at its end
    if (!this.chans) return;
    this.status();
    setTimeout(() => void this.stop(), TERM_GRACE).unref();
    this.checkIdle();
  }

  async hup(): Promise<void> {
    const rules = await readRules(this.o.home, this.c.me);
    if (rules.kind !== "ok") this.log(line.alert(`unable to reread controls: ${rules.reason}`));
    else this.c = { ...this.c, rules: rules.value };
  }

  alrm(): void {
    if (!this.chans) return;
    for (const ch of Object.values(this.chans)) {
      rescheduleAll(ch.queue, this.now());
      this.pump(ch);
    }
  }
}
