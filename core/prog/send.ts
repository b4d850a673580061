/**
 * `qm send`: the queue manager (qmail-send with qmail-clean's jobs; docs/qmail.md
 * §2). The decisions are core/lib/send/machine.ts, a state machine; this
 * file is its runner: it starts the spawners, performs each effect the
 * machine emits on the queue store, the spawners, the clock and the log, in
 * the order emitted, and turns signals, the trigger, timers and finished I/O
 * into events.
 */
import { closeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { ok, temp, type Result } from "../lib/base/result.ts";
import type { Answer, Bounced, Effect, Event } from "../lib/send/effects.ts";
import type { NoticeJob } from "../lib/send/notice.ts";
import { appendDsn, writeDsn } from "../io/queue/dsn.ts";
import { line } from "../lib/send/log.ts";
import { busy, handle, newMachine, type Machine } from "../lib/send/machine.ts";
import type { Channel } from "../lib/send/rewrite.ts";
import type { Report } from "../lib/send/spawn-wire.ts";
import type { Summary } from "../lib/send/state.ts";
import { submitBounce } from "../io/queue/bounce.ts";
import { cleanOrphans, cleanPid, takeMaildrop } from "../io/queue/clean.ts";
import * as store from "../io/queue/store.ts";
import { readSendControls, SEND_FILES } from "../io/send/controls.ts";
import { changedControls, stampControls } from "../io/base/control-stamp.ts";
import { remoteUser, Spawner } from "../io/send/spawner.ts";
import { dropToQueueOwner } from "../io/queue/owner.ts";
import { openTrigger, takeSendMutexAfterQctl, type Trigger } from "../io/queue/trigger.ts";
import { handleRequest, type ChangeOp, type ManagerHooks } from "../io/queue/change.ts";
import { listenControl, type ControlServer } from "../io/queue/control.ts";
import { finishDeletes } from "../io/queue/edit.ts";
import { readMark } from "../io/queue/hold.ts";
import { clearMarkLater, finishMessageLater, Retirer } from "../io/queue/retire.ts";
import { noteDeferrals } from "../io/queue/status.ts";
import { FENCE_BUSY, openFence, waitFence } from "../io/queue/fence.ts";

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

const RESCAN = 1500; // s: todo/ is rescanned even without a trigger
const CLEANUP = 76431; // s: orphaned mess files
const MAILDROP_BATCH = 10000;
const QCTL_WAIT_MS = 60_000; // ms: how long a starting qm send waits for a qm qctl that holds the send mutex
const FENCE_MS = 60_000; // ms: how long a starting qm send waits for the spawners of a killed one to exit
const QUIESCE_MS = 30_000; // ms: a qm qctl change (other than delete) waits this long for deliveries of its messages to end

const closeFd = (fd: number): void => {
  try {
    closeSync(fd);
  } catch {}
};

type Handlers = { readonly [K in Effect["kind"]]: (e: Extract<Effect, { kind: K }>) => Answer<K> };

/** Starts the queue manager; `done` settles when it stops (SIGTERM, a queue run's end, or a fatal error). */
export function startSend(opts: SendOptions): SendHandle {
  let settle!: (r: Result<Summary>) => void;
  const done = new Promise<Result<Summary>>((r) => (settle = r));
  const { home, once = false } = opts;
  const queue = join(home, "queue");
  const clock = opts.clock ?? Date.now;
  const env = opts.env ?? process.env;
  const nowSec = (): number => Math.floor(clock() / 1000);
  const spawners: Record<Channel, Spawner | null> = { local: null, remote: null };
  const batch = store.newBatch();
  let m: Machine | null = null;
  let early = false; // SIGTERM before the machine was made
  let timer: NodeJS.Timeout | null = null;
  let trigger: Trigger | null = null;
  let mutex: { release(): void } | null = null;
  let control: ControlServer | null = null;
  const waiters: (() => void)[] = []; // quiesce() calls waiting for deliveries to end
  const held = (id: number): boolean => readMark(queue, id) !== null;
  const periodic: NodeJS.Timeout[] = [];
  const feed = (ev: Event): void => void (m && handle(m, ev));
  const retire = new Retirer((text) => opts.out(line.warning(text)));
  let repull = false; // a todo/ entry waits for the removals of the old message with its id
  const later = (p: Promise<Event>): void => void p.then(feed);

  const fx: Handlers = {
    log: (e) => opts.out(e.line),
    cleanPid: () => void cleanPid(queue, nowSec()),
    scanInfo: () => store.scanInfo(queue),
    readKnown: (e) => {
      if (store.hasTodo(queue, e.id)) return ok(null);
      const k = store.readMessage(queue, e.id);
      return k.kind === "ok" && k.value ? ok({ ...k.value, held: held(e.id) }) : k;
    },
    cleanOrphans: (e) => void cleanOrphans(queue, nowSec(), e.known),
    takeMaildrop: () => later(takeMaildrop(home, nowSec(), MAILDROP_BATCH).then((evs) => ({ kind: "intake", warnings: evs.filter((x) => !x.ok).map((x) => x.text), taken: evs.filter((x) => x.ok).map((x) => x.text) }))),
    scanTodo: () => {
      const r = store.scanTodo(queue);
      if (r.kind !== "ok" || !r.value.some((id) => retire.busy(id))) return r;
      for (const id of r.value) if (retire.busy(id) && !repull) { repull = true; retire.whenIdle(id, () => ((repull = false), feed({ kind: "pull" }))); }
      return ok(r.value.filter((id) => !retire.busy(id)));
    },
    preprocess: (e) => {
      const n = store.preprocess(queue, e.id, e.route, batch);
      return n.kind === "ok" ? ok({ ...n.value, held: held(e.id) }) : n;
    },
    releaseTodo: (e) => later(store.releaseTodo(queue, e.ids, batch).then((r) => ({ kind: "released", r }))),
    readChannel: (e) => store.readChannel(queue, e.chan, e.id),
    spawn: (e) => spawners[e.chan]!.send(e.slot, store.messPath(queue, e.id), e.sender, e.recipient),
    appendBounce: (e) => store.appendBounce(queue, e.id, e.paragraph),
    markDone: (e) => store.markDone(queue, e.chan, e.id, e.offset),
    removeChannel: (e) => store.removeChannel(queue, e.chan, e.id), // the checkpoint: done before anything else, so a killed qm send never delivers it again
    setRetry: (e) => store.setRetry(queue, e.chan, e.id, e.at),
    readBounce: (e) => store.readBounce(queue, e.id),
    submitBounce: (e) => later(submitJobs(e.id, e.jobs).then((r) => ({ kind: "bounced", id: e.id, r }))),
    submitWarning: (e) => later(submitBounce(home, { ...e.job, mess: store.messPath(queue, e.id) }, env).then((r) => ({ kind: "warned", id: e.id, r: r.kind === "ok" ? ok({ qp: r.value.qp }) : r }))),
    appendDsn: (e) => appendDsn(queue, e.id, e.line),
    writeDsn: (e) => writeDsn(queue, e.id, e.state),
    removeBounce: (e) => store.removeBounce(queue, e.id),
    noteDeferrals: (e) => noteDeferrals(queue, e.id, e.birth, e.attempts),
    clearMark: (e) => (retire.add(e.id, "the hold mark", () => clearMarkLater(queue, e.id)), ok(undefined)),
    finishMessage: (e) => (retire.add(e.id, "the files", () => finishMessageLater(queue, e.id)), ok(undefined)),
    timer: (e) => {
      if (timer) clearTimeout(timer);
      timer = e.ms === null ? null : setTimeout(() => ((timer = null), feed({ kind: "wake" })), e.ms);
    },
    after: (e) => void setTimeout(() => feed(e.event), e.ms).unref(),
    defer: (e) => queueMicrotask(() => feed(e.event)),
    shutdown: (e) => {
      if (timer) clearTimeout(timer);
      for (const t of periodic) clearInterval(t);
      trigger?.close();
      control?.close();
      later(Promise.all(Object.values(spawners).map((s) => s?.close(e.graceMs))).then(() => ({ kind: "closed" })));
    },
    exit: (e) => {
      void retire.settled().then(() => {
        mutex?.release();
        settle(e.result);
      });
    },
  };
  /** A finished message's bounce and notices, in order; the first failure stops (the completion is tried again). */
  const submitJobs = async (id: number, jobs: readonly NoticeJob[]): Promise<Result<Bounced>> => {
    let qp: number | undefined;
    let notice: number | undefined;
    for (const job of jobs) {
      const r = await submitBounce(home, { ...job, mess: store.messPath(queue, id) }, env);
      if (r.kind !== "ok") return r;
      if (job.action === "failed") qp = r.value.qp;
      else notice = r.value.qp;
    }
    return ok({ kind: "sent", ...(qp !== undefined ? { qp } : {}), ...(notice !== undefined ? { notice } : {}) });
  };
  const emit = <E extends Effect>(e: E): Answer<E["kind"]> => (fx[e.kind] as unknown as (e: E) => Answer<E["kind"]>)(e);

  const fail = (why: string): void => {
    opts.out(line.alert(`cannot start: ${why}`));
    mutex?.release();
    settle(temp(`cannot start: ${why}`));
  };
  const boot = async (): Promise<void> => {
    const c = await readSendControls(home);
    if (c.kind !== "ok") return fail(c.reason);
    const mx = await takeSendMutexAfterQctl(queue, QCTL_WAIT_MS); // a qm qctl making a change itself is waited for
    if (mx.kind !== "ok") return fail(mx.reason);
    mutex = mx.value;
    // a killed qm send's spawners may still start a delivery they had read: none may be left
    // before this one honours a mark or answers qm qctl (io/queue/fence.ts)
    const slow = setTimeout(() => opts.out(line.warning(`waiting: ${FENCE_BUSY}`)), 5000);
    const fenced = await waitFence(queue, FENCE_MS);
    clearTimeout(slow);
    if (fenced.kind !== "ok") return fail(fenced.reason);
    const fence = openFence(queue);
    if (fence.kind !== "ok") return fail(fence.reason);
    const command = { local: env.QM_LSPAWN, remote: env.QM_RSPAWN };
    const has = { local: c.value.concurrency.local > 0 || !!command.local, remote: c.value.concurrency.remote > 0 || !!command.remote };
    const machine = newMachine({ controls: c.value, once, force: opts.force ?? false, spawners: has, stopping: early }, emit, clock, () => randomBytes(12).toString("base64url"));
    m = machine;
    const ids = await remoteUser(env);
    for (const chan of ["local", "remote"] as const) {
      if (!has[chan]) continue;
      const onLost = (why: string): void => feed({ kind: "lost", why });
      const so = { command: command[chan], env, fence: fence.value, ...(chan === "remote" ? ids : {}) };
      const onReport = (report: Report): void => {
        feed({ kind: "report", chan, report });
        for (const w of waiters.splice(0)) w();
      };
      spawners[chan] = new Spawner(chan === "local" ? "lspawn" : "rspawn", onReport, onLost, so);
    }
    closeFd(fence.value); // the spawners hold it now
    dropToQueueOwner(queue);
    const redone = await finishDeletes(queue); // deletes a crash interrupted (qm-qctl(8))
    if (redone.kind !== "ok") opts.out(line.warning(redone.reason));
    feed({ kind: "start" });
    if (!once && !machine.finished) {
      const t = await openTrigger(queue, () => feed({ kind: "pull" }));
      if (t.kind !== "ok") return fail(t.reason);
      trigger = t.value;
      periodic.push(setInterval(() => feed({ kind: "pull" }), RESCAN * 1000));
      periodic.push(setInterval(() => feed({ kind: "cleanup" }), CLEANUP * 1000));
    }
    feed({ kind: "go" });
    // the control socket once deliveries are under way (a qm qctl meanwhile finds nobody listening and tries again)
    if (!once && !machine.finished) {
      const ctl = await listenControl(queue, (cmd) => handleRequest(cmd, { home, queue, nowMs: clock(), env }, hooks));
      if (ctl.kind !== "ok") opts.out(line.warning(`${ctl.reason}; qm qctl cannot reach this qm send`));
      else if (machine.finished) ctl.value.close();
      else control = ctl.value;
    }
  };
  /** What a qm qctl request on the control socket gets of this manager (core/io/queue/change.ts). */
  const hooks: ManagerHooks = {
    quiesce: async (ids: readonly number[], op: ChangeOp): Promise<boolean> => {
      if (!m) return false;
      feed({ kind: "freeze", ids, del: op === "delete" });
      await retire.settled(ids); // a finished message's files are gone before qm qctl looks
      const deadline = Date.now() + QUIESCE_MS;
      while (m && busy(m, ids)) {
        const left = deadline - Date.now();
        if (left <= 0) return false;
        await new Promise<void>((r) => {
          const t = setTimeout(r, left);
          waiters.push(() => (clearTimeout(t), r()));
        });
      }
      return true;
    },
    resume: (ids: readonly number[]): void => feed({ kind: "resume", ids }),
  };
  let stamps = stampControls(home, SEND_FILES);
  /** SIGHUP: the spawners are told to read theirs (on their command pipes), and send reads every one of its own. */
  const hup = async (): Promise<void> => {
    if (!m) return;
    for (const s of Object.values(spawners)) s?.reload();
    const r = await readSendControls(home);
    const now = stampControls(home, SEND_FILES);
    feed({ kind: "controls", r, changed: changedControls(stamps, now) });
    stamps = now;
  };
  void boot();
  return { done, term: () => (m ? feed({ kind: "term" }) : void (early = true)), hup: () => void hup(), alrm: () => feed({ kind: "alrm" }) };
}
