/**
 * `qm send`'s queue manager as a state machine (qmail-send's main loop,
 * docs/qmail.md §2): events in, effects out (effects.ts). No I/O and no clock of
 * its own: the runner performs what it emits, in the order emitted, and the
 * order is the crash-safety argument:
 * - todo/ is released only after the batch's info/local/remote are durable,
 *   and `new msg` is logged only then;
 * - a result is checkpointed (D mark, or the channel file's unlink for a
 *   pass's last result) before anything else is started, a failure's bounce
 *   paragraph appended (and fsynced) before its mark;
 * - a finished message's bounce is queued before bounce/<id> goes, and both
 *   before `end msg` and the unlinks of mess, intd and info.
 */
import { ok, temp, type Result } from "../base/result.ts";
import { bounceParagraph, planBounce } from "./bounce.ts";
import { noticeJob, type NoticeAction, type NoticeJob } from "./notice.ts";
import { formatDoneLine, wants, type DoneNote, type DsnState, type MessageDsn } from "../queue/dsn.ts";
import { RELAYED_NOTE } from "./spawn-wire.ts";
import type { Bounced, Emit, Event } from "./effects.ts";
import { line } from "./log.ts";
import { newPrioq, popQ, pushQ, rescheduleAll, type Prioq } from "./prioq.ts";
import { bounceRecipient, rewrite, verpSender, type Channel, type Routed } from "./rewrite.ts";
import { isDying, nextRetry } from "./schedule.ts";
import type { Report } from "./spawn-wire.ts";
import type { ChannelRecord, KnownMessage, Msg, NewMessage, Pass, SendControls, Slot, Summary, Unit } from "./state.ts";
import { GROUP_MAX } from "./spawn-wire.ts";

export const SLEEP_SYSFAIL = 123; // s: retry after a file system failure
export const TERM_GRACE = 60_000; // ms: deliveries under way get this long after SIGTERM
export const TODO_BATCH = 100;
const NO_BOUNCE: Result<Bounced> = ok({ kind: "none" });
const TRIPLE: Result<Bounced> = ok({ kind: "triple" });
const DYING_NOTE = "Giving up: the message has been in the queue longer than queuelifetime.\n";

export interface Config {
  readonly controls: SendControls;
  /** A queue run (cron): stop when nothing more is due. */
  readonly once: boolean;
  /** With once: every delivery now, due or not. */
  readonly force: boolean;
  /** The channels that have a spawner. */
  readonly spawners: Readonly<Record<Channel, boolean>>;
  /** SIGTERM came before the machine was made. */
  readonly stopping?: boolean;
}

interface Chan {
  readonly name: Channel;
  limit: number; // concurrency: slots below it are handed out; a reload may change it
  readonly spawner: boolean;
  readonly queue: Prioq;
  readonly open: Pass[];
  readonly slots: (Slot | null)[];
  readonly free: number[];
  inflight: number;
  /** Units of the concurrency in use (local: deliveries; remote: transactions), held to `limit`. */
  busy: number;
  /** The remote transaction started last in this pump: the pass's next recipients at its domain may join it. */
  group: { readonly pass: Pass; readonly domain: string; readonly sender: string; size: number; readonly unit: Unit } | null;
  /** Deliveries under way per recipient (lowercased), for control/concurrencyrecipient (local channel). */
  readonly perRcpt: Map<string, number>;
  /** Open passes parked, oldest first, while their next recipient is at its limit: pump never scans them. */
  readonly parked: Map<string, Pass[]>;
  nParked: number;
}

/** Open passes a channel keeps while their next recipients wait for control/concurrencyrecipient. */
const MAX_OPEN = 1000;

export interface Machine {
  readonly cfg: Config;
  readonly emit: Emit;
  readonly clock: () => number; // ms since the epoch
  /** Random text for notices' MIME boundaries; none in tests. */
  readonly nonce?: () => string;
  c: SendControls;
  route: (rcpt: string) => Routed;
  readonly known: (id: number) => boolean;
  readonly chans: Record<Channel, Chan>;
  readonly all: readonly Chan[]; // local, remote
  readonly msgs: Map<number, Msg>;
  readonly sum: Summary;
  delivery: number;
  stopping: boolean;
  finished: boolean;
  lost: string | null;
  /** stale: ids of `made` a qm qctl change touched after they were preprocessed: read again from disk once released. */
  todo: { running: boolean; again: boolean; ids: number[]; at: number; made: readonly NewMessage[]; stale: Set<number> };
  completing: number;
  timerAt: number;
  /** Messages a qm qctl change is working on: no pass is opened for them until "resume". */
  readonly frozen: Set<number>;
}

export function newMachine(cfg: Config, emit: Emit, clock: () => number, nonce?: () => string): Machine {
  const mk = (name: Channel): Chan => {
    const limit = cfg.controls.concurrency[name];
    const free: number[] = [];
    for (let i = capacity(name, limit) - 1; i >= 0; i--) free.push(i);
    return { name, limit, spawner: cfg.spawners[name], queue: newPrioq(), open: [], slots: [], free, inflight: 0, busy: 0, group: null, perRcpt: new Map(), parked: new Map(), nParked: 0 };
  };
  const msgs = new Map<number, Msg>();
  const rules = cfg.controls.rules;
  const chans = { local: mk("local"), remote: mk("remote") };
  return {
    cfg, emit, clock, ...(nonce ? { nonce } : {}), c: cfg.controls, route: (a) => rewrite(a, rules), known: (id) => msgs.has(id),
    chans, all: [chans.local, chans.remote], msgs,
    sum: { deliveries: 0, success: 0, failure: 0, deferral: 0, done: 0, left: 0 },
    delivery: 0, stopping: cfg.stopping ?? false, finished: false, lost: null,
    todo: { running: false, again: false, ids: [], at: 0, made: [], stale: new Set() }, completing: 0, timerAt: Infinity, frozen: new Set(),
  };
}

const now = (m: Machine): number => Math.floor(m.clock() / 1000);
const log = (m: Machine, text: string): void => m.emit({ kind: "log", line: text });
function status(m: Machine): void {
  const { local, remote } = m.chans;
  log(m, line.status({ local: local.busy, localMax: local.limit, remote: remote.busy, remoteMax: remote.limit, exiting: m.stopping }));
}

export function handle(m: Machine, ev: Event): void {
  switch (ev.kind) {
    case "start": return load(m);
    case "go": for (const ch of m.all) pump(m, ch); return pull(m);
    case "pull": return pull(m);
    case "intake": return intake(m, ev.warnings, ev.taken ?? []);
    case "released": return released(m, ev.r);
    case "report": return report(m, m.chans[ev.chan], ev.report);
    case "bounced": return bounced(m, ev.id, ev.r);
    case "warned": return warned(m, ev.id, ev.r);
    case "complete": { const msg = m.msgs.get(ev.id); return msg && complete(m, msg); }
    case "wake": m.timerAt = Infinity; for (const ch of m.all) pump(m, ch); return;
    case "cleanup": return m.emit({ kind: "cleanOrphans", known: m.known });
    case "controls": return reloaded(m, ev.r, ev.changed);
    case "alrm": for (const ch of m.all) { rescheduleAll(ch.queue, now(m)); pump(m, ch); } return;
    case "term": return term(m);
    case "grace": return stop(m, null);
    case "lost": return stop(m, ev.why);
    case "closed": return closed(m);
    case "freeze": return freeze(m, ev.ids, ev.del);
    case "resume": return resume(m, ev.ids);
  }
}

/** Start-up: pid/ leftovers, then every message with an info file and no todo file. */
function load(m: Machine): void {
  const nowSec = now(m);
  m.emit({ kind: "cleanPid" });
  const ids = m.emit({ kind: "scanInfo" });
  if (ids.kind !== "ok") log(m, line.alert(`${ids.reason}, sleeping...`));
  for (const id of ids.kind === "ok" ? ids.value : []) {
    const k = m.emit({ kind: "readKnown", id });
    if (k.kind !== "ok") {
      log(m, line.warning(k.reason));
      continue;
    }
    if (k.value) adopt(m, k.value, nowSec);
  }
  m.emit({ kind: "cleanOrphans", known: m.known });
  status(m);
}

/** A message read from disk: scheduled by its channel files' mtimes unless held; completed when nothing is pending, held or not. */
function adopt(m: Machine, k: KnownMessage, nowSec: number): void {
  const msg: Msg = { id: k.id, birth: k.birth, sender: k.sender, pending: new Set(k.channels.keys()), completing: false, held: k.held ?? false, ...(k.dsn ? { dsn: k.dsn } : {}) };
  m.msgs.set(k.id, msg);
  if (!msg.held) for (const [chan, at] of k.channels) pushQ(m.chans[chan].queue, m.cfg.force ? nowSec : at, k.id);
  if (msg.pending.size === 0) complete(m, msg);
}

/** maildrop/ then todo/, in batches, each made durable before its todo files go; again if pulled meanwhile. */
function pull(m: Machine): void {
  if (m.todo.running) {
    m.todo.again = true;
    return;
  }
  m.todo.running = true;
  todoPass(m);
}
function todoPass(m: Machine): void {
  m.todo.again = false;
  if (m.stopping) return todoEnd(m);
  m.emit({ kind: "takeMaildrop" });
}
function intake(m: Machine, warnings: readonly string[], taken: readonly string[]): void {
  for (const t of taken) log(m, line.intake(t));
  for (const w of warnings) log(m, line.warning(w));
  const ids = m.emit({ kind: "scanTodo" });
  if (ids.kind !== "ok") {
    log(m, line.warning(ids.reason));
    return todoEnd(m);
  }
  m.todo.ids = ids.value;
  m.todo.at = 0;
  nextBatch(m);
}
function nextBatch(m: Machine): void {
  const t = m.todo;
  if (t.at < t.ids.length && !m.stopping) {
    const ids = t.ids.slice(t.at, (t.at += TODO_BATCH));
    const made: NewMessage[] = [];
    let failed = false;
    for (const id of ids) {
      if (m.msgs.has(id)) continue;
      const r = m.emit({ kind: "preprocess", id, route: m.route });
      if (r.kind !== "ok") log(m, line.warning(r.reason));
      else made.push(r.value);
      failed ||= r.kind !== "ok";
    }
    // qmail-send: a todo/ entry that failed (disk full...) is tried again after SLEEP_SYSFAIL, not at the next rescan
    if (failed && !m.cfg.once) m.emit({ kind: "after", ms: SLEEP_SYSFAIL * 1000, event: { kind: "pull" } });
    t.made = made;
    return m.emit({ kind: "releaseTodo", ids: made.map((n) => n.id) });
  }
  if (t.again) return todoPass(m);
  todoEnd(m);
}
function todoEnd(m: Machine): void {
  m.todo.running = false;
  checkIdle(m);
}
function released(m: Machine, r: Result<void>): void {
  if (r.kind !== "ok") {
    log(m, line.warning(r.reason)); // todo/ stays: redone later
    return nextBatch(m);
  }
  const nowSec = now(m);
  for (const n of m.todo.made) {
    log(m, line.newMsg(n.id));
    log(m, line.infoMsg(n.id, n.bytes, n.sender, n.qp, n.uid));
    if (m.todo.stale.has(n.id)) {
      // held, deleted... after it was preprocessed: what preprocess saw is stale, the disk is not
      const k = m.emit({ kind: "readKnown", id: n.id });
      if (k.kind !== "ok") log(m, line.warning(k.reason));
      else if (k.value) adopt(m, k.value, nowSec);
      continue;
    }
    const msg: Msg = { id: n.id, birth: n.birth, sender: n.sender, pending: new Set(n.channels), completing: false, held: n.held ?? false, ...(n.dsn ? { dsn: n.dsn } : {}) };
    m.msgs.set(n.id, msg);
    if (!msg.held) for (const ch of n.channels) pushQ(m.chans[ch].queue, nowSec, n.id);
    if (n.channels.length === 0) complete(m, msg);
  }
  m.todo.made = [];
  m.todo.stale.clear();
  for (const ch of m.all) pump(m, ch);
  nextBatch(m);
}

/**
 * Starts deliveries while the channel has room: the first open pass whose
 * next recipient may start, then the next message due. A local recipient
 * with control/concurrencyrecipient deliveries under way waits, its pass
 * open, while other messages go ahead (one hanging .qmail program cannot
 * take every local slot).
 */
function pump(m: Machine, ch: Chan): void {
  const nowSec = now(m);
  while (!m.stopping && ch.spawner) {
    const i = nextPass(m, ch);
    const pass = i >= 0 ? ch.open[i] : undefined;
    const rec = pass && pass.next < pass.records.length ? pass.records[pass.next]! : undefined;
    const join = rec !== undefined && !rec.done && joins(ch, pass!, rec);
    if ((!join && ch.busy >= ch.limit) || ch.free.length === 0) break;
    if (pass && rec) {
      pass.next++;
      if (!rec.done) deliver(m, ch, pass, rec, join);
      continue;
    }
    if (pass) {
      ch.open.splice(i, 1);
      maybeFinish(m, pass);
      continue;
    }
    if (ch.open.length + ch.nParked >= MAX_OPEN) break;
    const e = ch.queue.heap[0];
    if (!e || e.at > nowSec) break;
    popQ(ch.queue);
    openPass(m, ch, e.id, nowSec);
  }
  ch.group = null; // what starts later is a new transaction
  armTimer(m);
}

/** Slot numbers a channel hands out: a remote unit holds up to GROUP_MAX. */
function capacity(name: Channel, limit: number): number {
  return name === "remote" ? limit * GROUP_MAX : limit;
}

/** True when this remote recipient joins the transaction its message's previous recipient just started (same domain and sender, not VERP's per-recipient one; room left): qm rspawn groups them so. */
function joins(ch: Chan, pass: Pass, rec: ChannelRecord): boolean {
  const g = ch.group;
  return g !== null && g.pass === pass && g.size < GROUP_MAX && g.domain === domainOf(rec.addr) && g.sender === verpSender(pass.msg.sender, rec.addr);
}

function domainOf(addr: string): string {
  return addr.slice(addr.lastIndexOf("@") + 1).toLowerCase();
}

/** The first open pass that is finished or whose next recipient may start; a pass whose recipient is at its limit is parked on the way. */
function nextPass(m: Machine, ch: Chan): number {
  for (let i = 0; i < ch.open.length; ) {
    const p = ch.open[i]!;
    const rec = p.records[p.next];
    const key = rec && !rec.done ? limitKey(m, ch, rec.addr) : null;
    if (key === null || (ch.perRcpt.get(key) ?? 0) < m.c.concurrencyRecipient!) return i;
    ch.open.splice(i, 1);
    const list = ch.parked.get(key);
    if (list) list.push(p);
    else ch.parked.set(key, [p]);
    ch.nParked++;
  }
  return -1;
}

/** Back to the front of the open list, oldest first: as many of the recipient's parked passes as it has room for now (all of every recipient's with no key). */
function unpark(m: Machine, ch: Chan, key?: string): void {
  if (ch.nParked === 0) return;
  const keys = key === undefined ? [...ch.parked.keys()] : [key];
  const back: Pass[] = [];
  for (const k of keys) {
    const list = ch.parked.get(k);
    if (!list) continue;
    const room = key === undefined ? list.length : Math.max(0, (m.c.concurrencyRecipient ?? 0) - (ch.perRcpt.get(k) ?? 0));
    back.push(...list.splice(0, room));
    if (list.length === 0) ch.parked.delete(k);
  }
  ch.nParked -= back.length;
  ch.open.unshift(...back);
}

function openPass(m: Machine, ch: Chan, id: number, nowSec: number): void {
  const msg = m.msgs.get(id);
  if (!msg || !msg.pending.has(ch.name) || msg.held || m.frozen.has(id)) return; // held: released by qctl; frozen: "resume" schedules it
  const recs = m.emit({ kind: "readChannel", chan: ch.name, id });
  if (recs.kind !== "ok") {
    log(m, line.warning(recs.reason));
    pushQ(ch.queue, nowSec + SLEEP_SYSFAIL, id);
    return;
  }
  const dying = isDying(msg.birth, nowSec, m.c.lifetime);
  ch.open.push({ msg, chan: ch.name, records: recs.value, next: 0, inflight: 0, deferred: false, finished: false, removed: false, dying, retryAt: nextRetry(msg.birth, nowSec, ch.name), startedAt: nowSec, deferrals: [] });
}

/** The key a recipient's deliveries are counted under for control/concurrencyrecipient; null when no limit applies. */
function limitKey(m: Machine, ch: Chan, addr: string): string | null {
  const limit = m.c.concurrencyRecipient ?? 0;
  return ch.name !== "local" || limit <= 0 ? null : addr.toLowerCase();
}

function countRcpt(ch: Chan, addr: string, by: 1 | -1): void {
  const key = addr.toLowerCase();
  const n = (ch.perRcpt.get(key) ?? 0) + by;
  if (n > 0) ch.perRcpt.set(key, n);
  else ch.perRcpt.delete(key);
}

function deliver(m: Machine, ch: Chan, pass: Pass, rec: ChannelRecord, join: boolean): void {
  const slot = ch.free.pop()!;
  countRcpt(ch, rec.addr, 1);
  const d = ++m.delivery;
  let unit: Unit;
  if (join) {
    unit = ch.group!.unit;
    ch.group!.size++;
  } else {
    unit = { left: 0 };
    ch.busy++;
    ch.group = ch.name === "remote" ? { pass, domain: domainOf(rec.addr), sender: verpSender(pass.msg.sender, rec.addr), size: 1, unit } : null;
  }
  unit.left++;
  ch.slots[slot] = { pass, rec, d, unit };
  ch.inflight++;
  pass.inflight++;
  m.sum.deliveries++;
  m.emit({ kind: "spawn", chan: ch.name, slot, id: pass.msg.id, sender: verpSender(pass.msg.sender, rec.addr), recipient: rec.addr });
  log(m, line.starting(d, pass.msg.id, ch.name, rec.addr));
  status(m);
}

/** One delivery result: logged, checkpointed on disk, and only then anything else. */
function report(m: Machine, ch: Chan, r: Report): void {
  const slot = r.slot >= 0 && r.slot < ch.slots.length ? ch.slots[r.slot] : null;
  if (!slot) return log(m, line.warning("internal error: delivery report out of range"));
  ch.slots[r.slot] = null;
  if (r.slot < capacity(ch.name, ch.limit)) ch.free.push(r.slot); // a slot above a lowered limit retires
  const { pass, rec, d, unit } = slot;
  if (--unit.left === 0) ch.busy--;
  countRcpt(ch, rec.addr, -1);
  unpark(m, ch, rec.addr.toLowerCase());
  if (pass.msg.forgotten) return forgottenReport(m, ch, pass, d, r);
  let letter = r.letter;
  let text = r.text;
  if (letter === "Z" && pass.dying) {
    letter = "D";
    text = `${text}${text === "" || text.endsWith("\n") ? "" : "\n"}${DYING_NOTE}`;
  }
  if (letter === "K") {
    m.sum.success++;
    log(m, line.success(d, text));
    noteSuccess(m, pass, rec, text);
    mark(m, pass, rec);
  } else if (letter === "D" && !wants(rcptDsn(pass.msg, rec.addr), "FAILURE")) {
    m.sum.failure++; // NOTIFY=NEVER (or without FAILURE): no bounce paragraph
    log(m, line.failure(d, text));
    mark(m, pass, rec);
  } else if (letter === "D") {
    m.sum.failure++;
    log(m, line.failure(d, text));
    const b = m.emit({ kind: "appendBounce", id: pass.msg.id, paragraph: bounceParagraph(bounceRecipient(rec.addr, m.c.rules), text) });
    if (b.kind === "ok") mark(m, pass, rec);
    else {
      log(m, line.alert(`${b.reason}; will try again later`));
      pass.deferred = true;
      pass.deferrals.push({ addr: rec.addr, error: `${text}${text === "" || text.endsWith("\n") ? "" : "\n"}The failure could not be recorded for the bounce (${b.reason}); will try again later.\n` });
    }
  } else {
    m.sum.deferral++;
    log(m, letter === "Z" ? line.deferral(d, text) : line.mangled(d));
    pass.deferred = true;
    pass.deferrals.push({ addr: rec.addr, error: letter === "Z" ? text : "Report mangled" });
  }
  ch.inflight--;
  pass.inflight--;
  status(m);
  maybeFinish(m, pass);
  pump(m, ch);
  checkIdle(m);
}

/** A result for a message qm qctl deleted meanwhile: logged, and nothing on disk is touched (its inode may be a new message's by now). */
function forgottenReport(m: Machine, ch: Chan, pass: Pass, d: number, r: Report): void {
  log(m, r.letter === "K" ? line.success(d, r.text) : r.letter === "D" ? line.failure(d, r.text) : r.letter === "Z" ? line.deferral(d, r.text) : line.mangled(d));
  ch.inflight--;
  pass.inflight--;
  pass.finished = pass.inflight === 0;
  status(m);
  pump(m, ch);
  checkIdle(m);
}

/** The checkpoint; for the last result of a pass with nothing deferred, removing the channel file is it. */
function mark(m: Machine, pass: Pass, rec: ChannelRecord): void {
  const id = pass.msg.id;
  if (pass.inflight === 1 && pass.next >= pass.records.length && !pass.deferred) {
    pass.removed = m.emit({ kind: "removeChannel", chan: pass.chan, id }).kind === "ok";
    if (pass.removed) return;
  }
  const r = m.emit({ kind: "markDone", chan: pass.chan, id, offset: rec.offset });
  if (r.kind !== "ok") log(m, line.warning(`${r.reason}; recipient ${rec.addr} may get a duplicate`));
}

function maybeFinish(m: Machine, pass: Pass): void {
  if (pass.finished || pass.inflight > 0 || pass.next < pass.records.length) return;
  pass.finished = true;
  const ch = m.chans[pass.chan];
  const id = pass.msg.id;
  if (pass.abandoned) {
    // "resume" reads the message again from disk; if it came while this pass was still delivering, now
    if (!m.frozen.has(id) && !pass.msg.forgotten && inflightOf(m, id) === 0) m.emit({ kind: "defer", event: { kind: "resume", ids: [id] } });
    return;
  }
  if (pass.deferred) {
    const attempts = pass.deferrals.map((x) => ({ channel: pass.chan, addr: x.addr, at: pass.startedAt, next: pass.retryAt, error: x.error }));
    const w = attempts.length > 0 ? m.emit({ kind: "noteDeferrals", id, birth: pass.msg.birth, attempts }) : ok(undefined);
    if (w.kind !== "ok") log(m, line.warning(w.reason));
    m.emit({ kind: "setRetry", chan: pass.chan, id, at: pass.retryAt });
    pushQ(ch.queue, pass.retryAt, id);
    maybeWarn(m, pass);
    return;
  }
  const rm = pass.removed ? ok(undefined) : m.emit({ kind: "removeChannel", chan: pass.chan, id });
  if (rm.kind !== "ok") {
    log(m, line.warning(rm.reason));
    pushQ(ch.queue, now(m) + SLEEP_SYSFAIL, id);
    return;
  }
  pass.msg.pending.delete(pass.chan);
  if (pass.msg.pending.size === 0) complete(m, pass.msg);
}

/** Message done: its bounce and notices (if any) go into the queue first (answered by "bounced"), then its files go. */
function complete(m: Machine, msg: Msg): void {
  if (msg.completing) return;
  if (msg.warning) {
    msg.completeAfterWarning = true; // the delay warning reads the mess file: finish after it
    return;
  }
  msg.completing = true;
  m.completing++;
  const text = m.emit({ kind: "readBounce", id: msg.id });
  const failed = text.kind === "ok" ? text.value : null;
  const plan = planBounce(msg.sender, m.c.bounce);
  const jobs: NoticeJob[] = [];
  if (failed !== null && plan.kind !== "triple") jobs.push(job(m, msg, plan, "failed", failed));
  // success notices (NOTIFY=SUCCESS): never to <> or #@[]
  const done = msg.dsn?.done ?? [];
  for (const action of ["delivered", "relayed"] as const) {
    const mine = done.filter((x) => x.action === action);
    if (plan.kind === "single" && mine.length > 0) jobs.push(job(m, msg, plan, action, mine.map((x) => bounceParagraph(x.addr, x.text)).join("")));
  }
  if (text.kind === "ok" && jobs.length > 0) return m.emit({ kind: "submitBounce", id: msg.id, jobs });
  // nothing to queue: the rest of the completion still comes after this step, as a queued bounce's does
  m.emit({ kind: "defer", event: { kind: "bounced", id: msg.id, r: text.kind !== "ok" ? text : failed !== null ? TRIPLE : NO_BOUNCE } });
}

/** The recipient's RFC 3461 parameters (keyed as routed). */
function rcptDsn(msg: Msg, addr: string) {
  return msg.dsn?.dsn.rcpts.get(addr);
}

/** A notice about `paragraphs` (bounce/<id>'s form) to the sender; ORCPTs looked up by the addresses the paragraphs name. */
function job(m: Machine, msg: Msg, plan: Exclude<ReturnType<typeof planBounce>, { kind: "triple" }>, action: NoticeAction, paragraphs: string): NoticeJob {
  const d = msg.dsn?.dsn;
  const dsn: MessageDsn | undefined = d && { ...d, rcpts: new Map([...d.rcpts].map(([a, r]) => [bounceRecipient(a, m.c.rules), r])) };
  return noticeJob(plan, paragraphs, { action, controls: m.c.bounce, me: m.c.me, nowMs: m.clock(), id: msg.id, birth: msg.birth, ...(dsn ? { dsn } : {}), ...(m.nonce ? { nonce: m.nonce() } : {}) });
}

/** A success the sender asked to hear of (NOTIFY=SUCCESS): local delivery, or a server without DSN. Written before the D mark. */
function noteSuccess(m: Machine, pass: Pass, rec: ChannelRecord, text: string): void {
  const msg = pass.msg;
  if (!wants(rcptDsn(msg, rec.addr), "SUCCESS")) return;
  const action = pass.chan === "local" ? "delivered" : text.includes(RELAYED_NOTE) ? "relayed" : null;
  if (!action) return; // the next server offers DSN and was asked: its notice, not ours
  const note: DoneNote = { action, addr: bounceRecipient(rec.addr, m.c.rules), text: text.replace(RELAYED_NOTE, "") };
  const w = m.emit({ kind: "appendDsn", id: msg.id, line: formatDoneLine(note) });
  if (w.kind !== "ok") return log(m, line.warning(`${w.reason}; no success notice for ${rec.addr}`));
  msg.dsn = { ...(msg.dsn ?? EMPTY_DSN), done: [...(msg.dsn?.done ?? []), note] };
}

const EMPTY_DSN: DsnState = { dsn: { rcpts: new Map() }, warned: false, done: [] };

/**
 * control/delaywarning: once a message is that old and a pass leaves
 * recipients deferred, its sender hears of them, once (the flag in
 * queue/dsn/ is written after the warning is queued).
 */
function maybeWarn(m: Machine, pass: Pass): void {
  const msg = pass.msg;
  const after = m.c.delaywarning ?? 0;
  if (after <= 0 || pass.dying || msg.warning || msg.dsn?.warned || now(m) - msg.birth < after) return;
  const plan = planBounce(msg.sender, m.c.bounce);
  if (plan.kind !== "single") return;
  const paras = pass.deferrals.filter((x) => wants(rcptDsn(msg, x.addr), "DELAY")).map((x) => bounceParagraph(bounceRecipient(x.addr, m.c.rules), x.error));
  if (paras.length === 0) return;
  msg.warning = true;
  m.completing++; // a queue run waits for it
  m.emit({ kind: "submitWarning", id: msg.id, job: job(m, msg, plan, "delayed", paras.join("")) });
}

function warned(m: Machine, id: number, r: Result<{ readonly qp: number }>): void {
  m.completing--;
  const msg = m.msgs.get(id);
  if (msg) {
    msg.warning = false;
    if (r.kind !== "ok") log(m, line.warning(`trouble injecting delay warning, will try after the next deferral: ${r.reason}`));
    else {
      log(m, line.noticeMsg(id, r.value.qp, "delayed"));
      msg.dsn = { ...(msg.dsn ?? EMPTY_DSN), warned: true };
      const w = m.emit({ kind: "writeDsn", id, state: msg.dsn });
      if (w.kind !== "ok") log(m, line.warning(`${w.reason}; the delay warning may be sent again after a restart`));
    }
    if (msg.completeAfterWarning) {
      msg.completeAfterWarning = false;
      complete(m, msg);
    }
  }
  checkIdle(m);
}

function bounced(m: Machine, id: number, r: Result<Bounced>): void {
  const msg = m.msgs.get(id);
  if (!msg?.completing) return;
  m.completing--;
  msg.completing = false;
  if (r.kind !== "ok") {
    log(m, line.warning(`trouble injecting bounce message, will try later: ${r.reason}`));
    if (!m.cfg.once) m.emit({ kind: "after", ms: SLEEP_SYSFAIL * 1000, event: { kind: "complete", id } });
    return checkIdle(m);
  }
  if (r.value.kind !== "none") m.emit({ kind: "removeBounce", id });
  if (r.value.kind === "triple") log(m, line.tripleBounce(id));
  if (r.value.kind === "sent" && r.value.qp !== undefined) log(m, line.bounceMsg(id, r.value.qp));
  if (r.value.kind === "sent" && r.value.notice !== undefined) log(m, line.noticeMsg(id, r.value.notice, "delivered"));
  log(m, line.endMsg(id));
  const c = m.emit({ kind: "clearMark", id });
  if (c.kind !== "ok") log(m, line.warning(c.reason));
  const f = m.emit({ kind: "finishMessage", id });
  if (f.kind !== "ok") log(m, line.warning(f.reason));
  m.msgs.delete(id);
  m.sum.done++;
  status(m);
  if (r.value.kind === "sent") pull(m); // a queue run delivers the bounces it made; the daemon hears the trigger too
  checkIdle(m);
}

/** One timer, for the earliest retry that falls due (never a poll for new mail). */
function armTimer(m: Machine): void {
  if (m.cfg.once || m.stopping) return;
  let at = Infinity;
  for (const ch of m.all) {
    const e = ch.queue.heap[0];
    if (e && ch.busy < ch.limit) at = Math.min(at, e.at);
  }
  if (at === m.timerAt) return;
  m.timerAt = at;
  m.emit({ kind: "timer", ms: at === Infinity ? null : Math.min(Math.max(0, (at - now(m)) * 1000 + 1000), 86400_000) });
}

/** A queue run ends when nothing runs and nothing more is due; SIGTERM when deliveries are over. */
function checkIdle(m: Machine): void {
  if (m.finished) return;
  if (m.todo.running || m.completing > 0 || m.all.some((ch) => ch.inflight > 0)) return;
  if (m.stopping) return stop(m, null);
  if (!m.cfg.once) return;
  const nowSec = now(m);
  const due = m.all.some((ch) => ch.limit > 0 && ch.spawner && (ch.open.length > 0 || (ch.queue.heap[0]?.at ?? Infinity) <= nowSec));
  if (!due) stop(m, null);
}

function stop(m: Machine, lost: string | null): void {
  if (m.finished) return;
  m.finished = m.stopping = true;
  m.lost = lost;
  if (lost) log(m, line.alert(`oh no! lost spawn connection! dying... (${lost})`));
  m.emit({ kind: "shutdown", graceMs: lost ? 1000 : 5000 });
}

function closed(m: Machine): void {
  if (!m.lost) log(m, line.exiting());
  m.sum.left = m.msgs.size;
  m.emit({ kind: "exit", result: m.lost ? temp(`lost spawn connection: ${m.lost}`) : ok(m.sum) });
}

function term(m: Machine): void {
  if (m.stopping) return;
  m.stopping = true;
  status(m);
  m.emit({ kind: "after", ms: TERM_GRACE, event: { kind: "grace" } });
  checkIdle(m);
}

/**
 * SIGHUP: every control file read again. The new values apply to what starts
 * from now on (routing of new messages, bounces, lifetime of passes opened,
 * concurrency); deliveries under way finish as they are. A channel started
 * with concurrency 0 has no spawner, and a reload cannot start one.
 */
function reloaded(m: Machine, r: Result<SendControls>, changed: readonly string[]): void {
  if (r.kind !== "ok") return log(m, line.alert(`unable to reread controls: ${r.reason}; the old ones stay in force`));
  m.c = r.value;
  const rs = r.value.rules;
  m.route = (a) => rewrite(a, rs);
  log(m, line.reload(changed));
  for (const ch of m.all) {
    unpark(m, ch); // the limit may have changed: pump parks them again
    const n = r.value.concurrency[ch.name];
    if (n > 0 && !ch.spawner) log(m, line.warning(`concurrency${ch.name} is ${n}, but qm send started without a ${ch.name} spawner (it was 0): restart qm send to deliver ${ch.name} mail`));
    if (n === ch.limit) continue;
    ch.limit = n;
    ch.free.length = 0;
    for (let i = capacity(ch.name, n) - 1; i >= 0; i--) if (!ch.slots[i]) ch.free.push(i);
  }
  status(m);
  for (const ch of m.all) pump(m, ch);
}

/** Deliveries of this message under way. */
export function inflightOf(m: Machine, id: number): number {
  let n = 0;
  for (const ch of m.all) for (const s of ch.slots) if (s && s.pass.msg.id === id) n++;
  return n;
}

/** True while some of these messages (still known) has deliveries under way: a qm qctl change waits for that. */
export function busy(m: Machine, ids: readonly number[]): boolean {
  return ids.some((id) => m.msgs.has(id) && inflightOf(m, id) > 0);
}

/**
 * A qm qctl change is about to touch these messages: no pass is opened for
 * them, and their passes, open or with their last deliveries under way, are
 * abandoned (finishing one touches nothing). A delete forgets the messages
 * whose deliveries are under way: their results touch no file, since by then
 * the id's inode may hold a new message.
 */
function freeze(m: Machine, ids: readonly number[], del: boolean): void {
  const set = new Set(ids);
  for (const n of m.todo.made) if (set.has(n.id)) m.todo.stale.add(n.id); // taken in but not yet released: see released()
  for (const id of ids) m.frozen.add(id);
  for (const ch of m.all) {
    unpark(m, ch);
    const passes = new Set([...ch.open, ...ch.slots.flatMap((sl) => (sl ? [sl.pass] : []))]);
    for (const pass of passes) {
      if (!set.has(pass.msg.id)) continue;
      pass.next = pass.records.length;
      pass.deferred = true;
      pass.abandoned = true;
      if (del && pass.inflight > 0) pass.msg.forgotten = true;
    }
    const keep = ch.open.filter((p) => !(p.abandoned && p.inflight === 0));
    ch.open.splice(0, ch.open.length, ...keep);
  }
  if (del) for (const id of ids) if (inflightOf(m, id) > 0) m.msgs.delete(id);
}

/** After a change: each message read again from disk (gone, held, released, flushed, requeued) and scheduled anew. */
function resume(m: Machine, ids: readonly number[]): void {
  for (const n of m.todo.made) if (ids.includes(n.id)) m.todo.stale.add(n.id); // preprocessed while frozen
  const set = new Set(ids.filter((id) => inflightOf(m, id) === 0));
  for (const ch of m.all) {
    const keep = ch.queue.heap.filter((e) => !set.has(e.id)).sort((a, b) => a.seq - b.seq);
    ch.queue.heap = [];
    for (const e of keep) pushQ(ch.queue, e.at, e.id);
  }
  const nowSec = now(m);
  for (const id of ids) {
    m.frozen.delete(id);
    if (!set.has(id) || m.msgs.get(id)?.completing) continue;
    m.msgs.delete(id);
    const k = m.emit({ kind: "readKnown", id }); // null: gone, or back in todo/ (the next pull takes it in)
    if (k.kind !== "ok") log(m, line.warning(k.reason));
    else if (k.value) adopt(m, k.value, nowSec);
  }
  for (const ch of m.all) pump(m, ch);
  pull(m);
}
