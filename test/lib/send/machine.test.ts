// Transcript tests of the queue manager's state machine: events in, the
// exact sequence of effects out. The order is the crash-safety argument
// (core/lib/send/machine.ts), so each test pins it down.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ok, temp, type Result } from "../../../core/lib/base/result.ts";
import type { Answers, Bounced, Effect, Emit, Event } from "../../../core/lib/send/effects.ts";
import { busy, handle, newMachine, type Machine } from "../../../core/lib/send/machine.ts";
import type { Channel } from "../../../core/lib/send/rewrite.ts";
import type { ChannelRecord, KnownMessage, NewMessage, SendControls } from "../../../core/lib/send/state.ts";
import type { DsnState, RcptDsn } from "../../../core/lib/queue/dsn.ts";
import { GROUP_MAX, RELAYED_NOTE } from "../../../core/lib/send/spawn-wire.ts";

const T0 = 1_700_000_000; // s
const CONTROLS: SendControls = {
  me: "example.test",
  rules: { locals: new Set(["example.test"]), virtualdomains: new Map(), percenthack: new Set(), envnoathost: "example.test" },
  bounce: { bouncefrom: "MAILER-DAEMON", bouncehost: "example.test", doublebounceto: "postmaster", doublebouncehost: "example.test", maxbytes: 50_000 },
  concurrency: { local: 10, remote: 20 },
  lifetime: 604800,
};

interface World {
  todo: number[];
  info: KnownMessage[];
  fresh: Map<number, NewMessage>;
  channels: Map<string, ChannelRecord[]>;
  bounces: Map<number, string>;
  fail: Partial<Record<keyof Answers, string>>;
}
interface Run {
  readonly m: Machine;
  readonly world: World;
  /** Feeds events; returns the effects they caused, one line each. */
  feed(...evs: Event[]): string[];
  clock: number; // s
}

function records(...addrs: string[]): ChannelRecord[] {
  let offset = 0;
  return addrs.map((addr) => {
    const r = { offset, addr, done: false };
    offset += addr.length + 2;
    return r;
  });
}
function fresh(id: number, sender: string, channels: Channel[]): NewMessage {
  return { id, sender, bytes: 100, qp: "42", uid: "0", birth: T0, channels };
}

function show(e: Effect): string {
  switch (e.kind) {
    case "log": return `log ${e.line.trimEnd()}`;
    case "readKnown": case "readBounce": case "removeBounce": case "finishMessage": case "preprocess": case "clearMark": return `${e.kind} ${e.id}`;
    case "noteDeferrals": return `noteDeferrals ${e.id} ${e.attempts.map((a) => `${a.channel} ${a.addr} birth+${a.at - T0} birth+${a.next - T0} ${JSON.stringify(a.error)}`).join("; ")}`;
    case "appendBounce": return `appendBounce ${e.id} ${JSON.stringify(e.paragraph)}`;
    case "readChannel": case "removeChannel": return `${e.kind} ${e.chan} ${e.id}`;
    case "markDone": return `markDone ${e.chan} ${e.id} @${e.offset}`;
    case "setRetry": return `setRetry ${e.chan} ${e.id} birth+${e.at - T0}`;
    case "spawn": return `spawn ${e.chan} slot ${e.slot} msg ${e.id} <${e.sender}> ${e.recipient}`;
    case "releaseTodo": return `releaseTodo [${e.ids.join(",")}]`;
    case "submitBounce": return `submitBounce ${e.id} ${e.jobs.map((j) => `${j.action === "failed" ? "" : `${j.action} `}<${j.envelope.sender}> to ${j.envelope.recipients.join(",")}`).join(" + ")}`;
    case "submitWarning": return `submitWarning ${e.id} <${e.job.envelope.sender}> to ${e.job.envelope.recipients.join(",")}`;
    case "appendDsn": return `appendDsn ${e.id} ${e.line.trimEnd()}`;
    case "writeDsn": return `writeDsn ${e.id}${e.state.warned ? " warned" : ""}`;
    case "timer": return `timer ${e.ms}`;
    case "after": return `after ${e.ms} ${e.event.kind}`;
    case "defer": return `defer ${e.event.kind}`;
    case "shutdown": return `shutdown ${e.graceMs}`;
    case "exit": return `exit ${e.result.kind}`;
    default: return e.kind;
  }
}

function machine(opts: { once?: boolean; force?: boolean; controls?: Partial<SendControls>; world?: Partial<World> } = {}): Run {
  const world: World = { todo: [], info: [], fresh: new Map(), channels: new Map(), bounces: new Map(), fail: {}, ...opts.world };
  let out: string[] = [];
  const failed = (k: keyof Answers): Result<never> | null => (world.fail[k] ? temp(world.fail[k]!) : null);
  const answer = (e: Effect): unknown => {
    switch (e.kind) {
      case "scanInfo": return ok(world.info.map((k) => k.id));
      case "readKnown": return ok(world.info.find((k) => k.id === e.id) ?? null);
      case "scanTodo": return failed("scanTodo") ?? ok(world.todo);
      case "preprocess": return failed("preprocess") ?? ok(world.fresh.get(e.id)!);
      case "readChannel": return failed("readChannel") ?? ok(world.channels.get(`${e.chan}/${e.id}`) ?? []);
      case "appendBounce": {
        const f = failed("appendBounce");
        if (!f) world.bounces.set(e.id, (world.bounces.get(e.id) ?? "") + e.paragraph);
        return f ?? ok(undefined);
      }
      case "markDone": case "removeChannel": case "finishMessage": case "noteDeferrals": case "clearMark": case "appendDsn": case "writeDsn": return failed(e.kind) ?? ok(undefined);
      case "readBounce": return failed("readBounce") ?? ok(world.bounces.get(e.id) ?? null);
      case "removeBounce": world.bounces.delete(e.id); return undefined;
      default: return undefined;
    }
  };
  const emit = ((e: Effect) => {
    out.push(show(e));
    return answer(e);
  }) as Emit;
  const run: Run = {
    world,
    clock: T0,
    m: undefined as unknown as Machine,
    feed(...evs) {
      out = [];
      for (const ev of evs) handle(run.m, ev);
      return out;
    },
  };
  (run as { m: Machine }).m = newMachine(
    { controls: { ...CONTROLS, ...opts.controls }, once: opts.once ?? true, force: opts.force ?? false, spawners: { local: true, remote: true } },
    emit,
    () => run.clock * 1000,
  );
  return run;
}

const K = (chan: Channel, slot: number, text = "did 1+0+0\n"): Event => ({ kind: "report", chan, report: { slot, letter: "K", text } });
const Z = (chan: Channel, slot: number, text = "try later\n"): Event => ({ kind: "report", chan, report: { slot, letter: "Z", text } });
const D = (chan: Channel, slot: number, text = "no mailbox\n"): Event => ({ kind: "report", chan, report: { slot, letter: "D", text } });
const bounced = (id: number, r: Result<Bounced>): Event => ({ kind: "bounced", id, r });
const NONE = ok<Bounced>({ kind: "none" });
const TRIPLE = ok<Bounced>({ kind: "triple" });

/** A queue run that has taken message 5 (recipients as given) in from todo/ and started its deliveries. */
function started(local: string[], remote: string[] = [], opts: Parameters<typeof machine>[0] = {}): Run {
  const chans: Channel[] = [...(local.length ? ["local" as const] : []), ...(remote.length ? ["remote" as const] : [])];
  const r = machine({ ...opts, world: { todo: [5], fresh: new Map([[5, fresh(5, "joe@x.test", chans)]]), channels: new Map([["local/5", records(...local)], ["remote/5", records(...remote)]]) } });
  r.feed({ kind: "start" }, { kind: "go" }, { kind: "intake", warnings: [] }, { kind: "released", r: ok(undefined) });
  return r;
}

describe("queue manager: taking a message in", () => {
  it("logs new msg only after the batch is released, then starts its deliveries", () => {
    const r = machine({ world: { todo: [5], fresh: new Map([[5, fresh(5, "joe@x.test", ["local"])]]), channels: new Map([["local/5", records("a@example.test")]]) } });
    assert.deepEqual(r.feed({ kind: "start" }), ["cleanPid", "scanInfo", "cleanOrphans", "log status: local 0/10 remote 0/20"]);
    assert.deepEqual(r.feed({ kind: "go" }), ["takeMaildrop"]);
    assert.deepEqual(r.feed({ kind: "intake", warnings: ["maildrop/x is not a queue file; removed"] }), [
      "log warning: maildrop/x is not a queue file; removed",
      "scanTodo",
      "preprocess 5",
      "releaseTodo [5]",
    ]);
    assert.deepEqual(r.feed({ kind: "released", r: ok(undefined) }), [
      "log new msg 5",
      "log info msg 5: bytes 100 from <joe@x.test> qp 42 uid 0",
      "readChannel local 5",
      "spawn local slot 0 msg 5 <joe@x.test> a@example.test",
      "log starting delivery 1: msg 5 to local a@example.test",
      "log status: local 1/10 remote 0/20",
    ]);
  });

  it("leaves todo/ for a later run when the batch cannot be made durable, and logs nothing new", () => {
    const r = machine({ world: { todo: [5], fresh: new Map([[5, fresh(5, "joe@x.test", ["local"])]]) } });
    r.feed({ kind: "start" }, { kind: "go" }, { kind: "intake", warnings: [] });
    assert.deepEqual(r.feed({ kind: "released", r: temp("unable to clean up todo files: EIO") }), [
      "log warning: unable to clean up todo files: EIO",
      "shutdown 5000",
    ]);
    assert.equal(r.m.msgs.size, 0);
  });

  it("in the daemon, retries a todo entry that failed after 123 s", () => {
    const r = machine({ once: false, world: { todo: [5], fail: { preprocess: "trouble reading todo/5: unknown record type" } } });
    r.feed({ kind: "start" }, { kind: "go" });
    assert.deepEqual(r.feed({ kind: "intake", warnings: [] }), ["scanTodo", "preprocess 5", "log warning: trouble reading todo/5: unknown record type", "after 123000 pull", "releaseTodo []"]);
  });

  it("runs todo/ again when pulled during a run, not twice at once", () => {
    const r = machine({ once: false });
    r.feed({ kind: "start" }, { kind: "go" });
    assert.deepEqual(r.feed({ kind: "pull" }, { kind: "pull" }), []);
    assert.deepEqual(r.feed({ kind: "intake", warnings: [] }), ["scanTodo", "takeMaildrop"]);
    assert.deepEqual(r.feed({ kind: "intake", warnings: [] }), ["scanTodo"]);
  });
});

describe("queue manager: checkpoints", () => {
  it("marks a result D in place while others of the pass are in flight, and unlinks the channel file for the last", () => {
    const r = started(["a@example.test", "b@example.test"]);
    assert.deepEqual(r.feed(K("local", 0)), ["log delivery 1: success: did_1+0+0/", "markDone local 5 @0", "log status: local 1/10 remote 0/20"]);
    assert.deepEqual(r.feed(K("local", 1)), [
      "log delivery 2: success: did_1+0+0/",
      "removeChannel local 5",
      "log status: local 0/10 remote 0/20",
      "readBounce 5",
      "defer bounced",
    ]);
    assert.deepEqual(r.feed(bounced(5, NONE)), ["log end msg 5", "clearMark 5", "finishMessage 5", "log status: local 0/10 remote 0/20", "shutdown 5000"]);
    assert.deepEqual(r.feed({ kind: "closed" }), ["log status: exiting", "exit ok"]);
  });

  it("falls back to a D mark when the last result's channel file cannot be unlinked, and retries the unlink later", () => {
    const r = started(["a@example.test"], [], { world: { fail: { removeChannel: "unable to unlink local/5: EIO" } } });
    r.world.fail = { removeChannel: "unable to unlink local/5: EIO" };
    assert.deepEqual(r.feed(K("local", 0)), [
      "log delivery 1: success: did_1+0+0/",
      "removeChannel local 5",
      "markDone local 5 @0",
      "log status: local 0/10 remote 0/20",
      "removeChannel local 5",
      "log warning: unable to unlink local/5: EIO",
      "shutdown 5000",
    ]);
  });

  it("appends (and fsyncs) the bounce paragraph before it marks the failed recipient", () => {
    const r = started(["bad@example.test", "a@example.test"]);
    assert.deepEqual(r.feed(D("local", 0)), [
      "log delivery 1: failure: no_mailbox/",
      'appendBounce 5 "bad@example.test:\\nno mailbox\\n\\n"',
      "markDone local 5 @0",
      "log status: local 1/10 remote 0/20",
    ]);
  });

  it("defers a failure whose bounce paragraph cannot be written, instead of marking it", () => {
    const r = started(["bad@example.test"], [], { world: {} });
    r.world.fail = { appendBounce: "unable to append to bounce/5: ENOSPC" };
    assert.deepEqual(r.feed(D("local", 0)), [
      "log delivery 1: failure: no_mailbox/",
      'appendBounce 5 "bad@example.test:\\nno mailbox\\n\\n"',
      "log alert: unable to append to bounce/5: ENOSPC; will try again later",
      "log status: local 0/10 remote 0/20",
      'noteDeferrals 5 local bad@example.test birth+0 birth+100 "no mailbox\\nThe failure could not be recorded for the bounce (unable to append to bounce/5: ENOSPC); will try again later.\\n"',
      "setRetry local 5 birth+100",
      "shutdown 5000",
    ]);
  });

  it("leaves a deferred recipient T, keeps the retry time as the channel file's mtime, and writes the status record first", () => {
    const r = started([], ["t@far.test"]);
    assert.deepEqual(r.feed(Z("remote", 0)), ["log delivery 1: deferral: try_later/", "log status: local 0/10 remote 0/20", 'noteDeferrals 5 remote t@far.test birth+0 birth+400 "try later\\n"', "setRetry remote 5 birth+400", "shutdown 5000"]);
    assert.deepEqual(r.m.sum, { deliveries: 1, success: 0, failure: 0, deferral: 1, done: 0, left: 0 });
  });

  it("defers a mangled report and ignores one for a slot not in use", () => {
    const r = started(["a@example.test"]);
    assert.deepEqual(r.feed(K("local", 7)), ["log warning: internal error: delivery report out of range"]);
    assert.deepEqual(r.feed({ kind: "report", chan: "local", report: { slot: 0, letter: "?", text: "" } }), [
      "log delivery 1: report mangled, will defer",
      "log status: local 0/10 remote 0/20",
      'noteDeferrals 5 local a@example.test birth+0 birth+100 "Report mangled"',
      "setRetry local 5 birth+100",
      "shutdown 5000",
    ]);
  });

  it("turns a deferral past queuelifetime into a failure with a note", () => {
    const next = machine({ controls: { lifetime: 10 }, world: { info: [{ id: 5, birth: T0, sender: "joe@x.test", channels: new Map([["remote", T0]]) }], channels: new Map([["remote/5", records("t@far.test")]]) } });
    next.clock = T0 + 11;
    next.feed({ kind: "start" }, { kind: "go" });
    assert.deepEqual(next.feed(Z("remote", 0, "later")).slice(0, 2), [
      "log delivery 1: failure: later/Giving_up:_the_message_has_been_in_the_queue_longer_than_queuelifetime./",
      'appendBounce 5 "t@far.test:\\nlater\\nGiving up: the message has been in the queue longer than queuelifetime.\\n\\n"',
    ]);
  });
});

describe("queue manager: completion", () => {
  it("queues the bounce, then removes bounce/<id>, then logs and unlinks the message", () => {
    const r = started(["bad@example.test"]);
    assert.deepEqual(r.feed(D("local", 0)), [
      "log delivery 1: failure: no_mailbox/",
      'appendBounce 5 "bad@example.test:\\nno mailbox\\n\\n"',
      "removeChannel local 5",
      "log status: local 0/10 remote 0/20",
      "readBounce 5",
      "submitBounce 5 <> to joe@x.test",
    ]);
    assert.deepEqual(r.feed(bounced(5, ok<Bounced>({ kind: "sent", qp: 77 }))), [
      "removeBounce 5",
      "log bounce msg 5 qp 77",
      "log end msg 5",
      "clearMark 5",
      "finishMessage 5",
      "log status: local 0/10 remote 0/20",
      "takeMaildrop",
    ]);
  });

  it("keeps bounce/ and every file of a message whose bounce could not be queued, and tries again after 123 s", () => {
    const r = started(["bad@example.test"], [], { once: false });
    r.feed(D("local", 0));
    assert.deepEqual(r.feed(bounced(5, temp("qq soft reject"))), ["log warning: trouble injecting bounce message, will try later: qq soft reject", "after 123000 complete"]);
    assert.deepEqual(r.feed({ kind: "complete", id: 5 }), ["readBounce 5", "submitBounce 5 <> to joe@x.test"]);
  });

  it("keeps a message whose bounce/ file cannot be read, and says so after the step", () => {
    const r = started(["a@example.test"], [], { once: false });
    r.world.fail = { readBounce: "unable to read bounce/5: EIO" };
    assert.deepEqual(r.feed(K("local", 0)).slice(-3), ["log status: local 0/10 remote 0/20", "readBounce 5", "defer bounced"]);
    assert.deepEqual(r.feed(bounced(5, temp("unable to read bounce/5: EIO"))), [
      "log warning: trouble injecting bounce message, will try later: unable to read bounce/5: EIO",
      "after 123000 complete",
    ]);
    assert.ok(r.m.msgs.has(5));
  });

  it("sends a double bounce for the null sender and discards a triple bounce", () => {
    const dbl = machine({ world: { info: [{ id: 6, birth: T0, sender: "", channels: new Map() }], bounces: new Map([[6, "a@b:\nno\n\n"]]) } });
    assert.deepEqual(dbl.feed({ kind: "start" }).slice(2, 5), ["readKnown 6", "readBounce 6", "submitBounce 6 <#@[]> to postmaster@example.test"]);
    const tri = machine({ world: { info: [{ id: 7, birth: T0, sender: "#@[]", channels: new Map() }], bounces: new Map([[7, "a@b:\nno\n\n"]]) } });
    assert.deepEqual(tri.feed({ kind: "start" }).slice(3, 5), ["readBounce 7", "defer bounced"]);
    assert.deepEqual(tri.feed(bounced(7, TRIPLE)).slice(0, 5), ["removeBounce 7", "log triple bounce: discarding bounce/7", "log end msg 7", "clearMark 7", "finishMessage 7"]);
  });
});

describe("queue manager: start-up, timers and signals", () => {
  it("schedules messages found in info/ at their channel files' mtimes, or now with --force", () => {
    const info: KnownMessage[] = [{ id: 8, birth: T0 - 1000, sender: "s@x.test", channels: new Map([["remote", T0 + 600]]) }];
    const channels = new Map([["remote/8", records("r@far.test")]]);
    assert.deepEqual(machine({ world: { info, channels } }).feed({ kind: "start" }, { kind: "go" }), [
      "cleanPid", "scanInfo", "readKnown 8", "cleanOrphans", "log status: local 0/10 remote 0/20", "takeMaildrop",
    ]);
    assert.deepEqual(machine({ force: true, world: { info, channels } }).feed({ kind: "start" }, { kind: "go" }).slice(5, 7), [
      "readChannel remote 8",
      "spawn remote slot 0 msg 8 <s@x.test> r@far.test",
    ]);
  });

  it("arms one timer for the earliest retry in the daemon, and delivers when it fires", () => {
    const r = started([], ["t@far.test"], { once: false });
    assert.deepEqual(r.feed(Z("remote", 0)).slice(-2), ["setRetry remote 5 birth+400", "timer 401000"]);
    r.clock = T0 + 401;
    // the local channel's pump re-arms the timer first (the retry is due: 0 ms), as qmail-send's select loop would
    assert.deepEqual(r.feed({ kind: "wake" }).slice(0, 3), ["timer 0", "readChannel remote 5", "spawn remote slot 0 msg 5 <joe@x.test> t@far.test"]);
  });

  it("on SIGTERM starts nothing new, waits for deliveries in flight, then shuts down", () => {
    const r = started(["a@example.test", "b@example.test"], [], { once: false, controls: { concurrency: { local: 1, remote: 20 } } });
    assert.deepEqual(r.feed({ kind: "term" }), ["log status: local 1/1 remote 0/20 exitasap", "after 60000 grace"]);
    assert.deepEqual(r.feed(K("local", 0)), ["log delivery 1: success: did_1+0+0/", "markDone local 5 @0", "log status: local 0/1 remote 0/20 exitasap", "shutdown 5000"]);
    assert.deepEqual(r.feed({ kind: "closed" }), ["log status: exiting", "exit ok"]);
    assert.equal(r.m.sum.left, 1);
  });

  it("dies at once, without the exiting line, when a spawner is lost", () => {
    const r = started(["a@example.test"]);
    assert.deepEqual(r.feed({ kind: "lost", why: "lspawn exited (1)" }, { kind: "closed" }), [
      "log alert: oh no! lost spawn connection! dying... (lspawn exited (1))",
      "shutdown 1000",
      "exit temp",
    ]);
  });

  it("on SIGALRM makes every queued message due now", () => {
    const r = started([], ["t@far.test"], { once: false });
    r.feed(Z("remote", 0));
    assert.deepEqual(r.feed({ kind: "alrm" }).slice(0, 2), ["readChannel remote 5", "spawn remote slot 0 msg 5 <joe@x.test> t@far.test"]);
  });
});

describe("queue manager: control/concurrencyrecipient", () => {
  it("a local recipient with its share of deliveries under way waits, its message open; other messages go ahead; it starts when one ends", () => {
    const ids = [5, 6, 7, 8];
    const rcpt: Record<number, string> = { 5: "a@example.test", 6: "A@example.test", 7: "a@example.test", 8: "b@example.test" };
    const r = machine({ once: false, controls: { concurrency: { local: 4, remote: 20 }, concurrencyRecipient: 1 }, world: { todo: ids, fresh: new Map(ids.map((id) => [id, fresh(id, "joe@x.test", ["local"])])), channels: new Map(ids.map((id) => [`local/${id}`, records(rcpt[id]!)])) } });
    r.feed({ kind: "start" }, { kind: "go" }, { kind: "intake", warnings: [] }, { kind: "released", r: ok(undefined) });
    const running = () => r.m.chans.local.slots.flatMap((x) => (x ? [`${x.pass.msg.id} ${x.rec.addr}`] : []));
    assert.deepEqual(running(), ["5 a@example.test", "8 b@example.test"], "6 and 7 wait for a@, 8 passes them");
    const slotOf5 = r.m.chans.local.slots.findIndex((x) => x?.pass.msg.id === 5);
    assert.deepEqual(r.feed(K("local", slotOf5)).filter((l) => l.startsWith("spawn")), [`spawn local slot ${slotOf5} msg 6 <joe@x.test> A@example.test`], "the address in any case is one recipient");
    assert.deepEqual(running().sort(), ["6 A@example.test", "8 b@example.test"]);
  });
  it("within one message the recipients start in order: a waiting one holds the later ones of its message", () => {
    const r = started(["a@example.test", "A@example.test", "b@example.test"], [], { once: false, controls: { concurrency: { local: 4, remote: 20 }, concurrencyRecipient: 1 } });
    assert.equal(r.m.chans.local.inflight, 1);
    assert.deepEqual(r.feed(K("local", 0)).filter((l) => l.startsWith("spawn")), ["spawn local slot 0 msg 5 <joe@x.test> A@example.test", "spawn local slot 1 msg 5 <joe@x.test> b@example.test"]);
  });
  it("absent or 0: only the channel's concurrency counts (remote is never limited per recipient)", () => {
    const r = started(["a@example.test", "a@example.test", "a@example.test"], ["t@far.test", "t@far.test"], { once: false, controls: { concurrency: { local: 4, remote: 20 }, concurrencyRecipient: 0 } });
    assert.equal(r.m.chans.local.inflight, 3);
    const q = started([], ["t@far.test", "t@far.test"], { once: false, controls: { concurrency: { local: 4, remote: 20 }, concurrencyRecipient: 1 } });
    assert.equal(q.m.chans.remote.inflight, 2);
  });
  const oneRcpt = (n: number, limit: number) => {
    const ids = Array.from({ length: n }, (_, i) => 100 + i);
    const r = machine({ once: false, controls: { concurrency: { local: 4, remote: 20 }, concurrencyRecipient: limit }, world: { todo: ids, fresh: new Map(ids.map((id) => [id, fresh(id, "joe@x.test", ["local"])])), channels: new Map(ids.map((id) => [`local/${id}`, records("a@example.test")])) } });
    r.feed({ kind: "start" }, { kind: "go" }, { kind: "intake", warnings: [] }, { kind: "released", r: ok(undefined) });
    return r;
  };
  const running = (r: Run) => r.m.chans.local.slots.flatMap((x) => (x ? [x.pass.msg.id] : []));
  it("waiting passes are parked: each report starts the oldest waiting message of that recipient, in queue order", () => {
    const r = oneRcpt(50, 2);
    assert.deepEqual(running(r), [100, 101]);
    assert.equal(r.m.chans.local.nParked, 48, "the other 48 are open and parked");
    for (let k = 0; k < 48; k++) {
      const slot = r.m.chans.local.slots.findIndex((x) => x?.pass.msg.id === 100 + k);
      const spawned = r.feed(K("local", slot)).filter((l) => l.startsWith("spawn"));
      assert.deepEqual(spawned, [`spawn local slot ${slot} msg ${102 + k} <joe@x.test> a@example.test`]);
    }
    assert.equal(r.m.chans.local.nParked, 0);
  });
  it("a reload that raises the limit starts parked passes at once; a qctl freeze reaches a parked pass", () => {
    const r = oneRcpt(6, 1);
    assert.deepEqual(running(r), [100]);
    r.feed({ kind: "controls", r: ok({ ...CONTROLS, concurrency: { local: 4, remote: 20 }, concurrencyRecipient: 3 }), changed: ["concurrencyrecipient"] });
    assert.deepEqual(running(r), [100, 101, 102]);
    r.feed({ kind: "freeze", ids: [103], del: false });
    const slot = r.m.chans.local.slots.findIndex((x) => x?.pass.msg.id === 100);
    assert.deepEqual(r.feed(K("local", slot)).filter((l) => l.startsWith("spawn")), [`spawn local slot ${slot} msg 104 <joe@x.test> a@example.test`], "103 is frozen: 104 goes next");
  });
});

describe("queue manager: control/concurrencyremote counts transactions", () => {
  const remoteRun = (msgs: Record<number, string[]>, limit: number, sender = "joe@x.test") => {
    const ids = Object.keys(msgs).map(Number);
    const r = machine({ once: false, controls: { concurrency: { local: 10, remote: limit } }, world: { todo: ids, fresh: new Map(ids.map((id) => [id, fresh(id, sender, ["remote"])])), channels: new Map(ids.map((id) => [`remote/${id}`, records(...msgs[id]!)])) } });
    const lines = r.feed({ kind: "start" }, { kind: "go" }, { kind: "intake", warnings: [] }, { kind: "released", r: ok(undefined) });
    return Object.assign(r, { lines });
  };
  const running = (r: Run) => r.m.chans.remote.slots.flatMap((x, i) => (x ? [`${i} ${x.pass.msg.id} ${x.rec.addr}`] : []));
  it("a message's recipients at one domain share one unit: with concurrencyremote 1 all five start, and the next message waits for all five", () => {
    const r = remoteRun({ 5: ["a@far.test", "b@far.test", "c@FAR.test", "d@far.test", "e@far.test"], 6: ["z@far.test"] }, 1);
    assert.equal(running(r).length, 5);
    assert.equal(r.m.chans.remote.busy, 1);
    const slots = r.m.chans.remote.slots.flatMap((x, i) => (x ? [i] : []));
    for (const s of slots.slice(0, 4)) assert.deepEqual(r.feed(K("remote", s)).filter((l) => l.startsWith("spawn")), [], "the unit is in use while one of its recipients is");
    assert.ok(r.feed(K("remote", slots[4]!)).includes(`spawn remote slot ${slots[4]} msg 6 <joe@x.test> z@far.test`));
    assert.equal(r.m.chans.remote.busy, 1);
  });
  it("another domain of the same message is another transaction, and waits for a unit", () => {
    const r = remoteRun({ 5: ["a@one.test", "b@one.test", "c@two.test"] }, 1);
    assert.deepEqual(running(r).map((x) => x.split(" ")[2]), ["a@one.test", "b@one.test"]);
    const [s1, s2] = r.m.chans.remote.slots.flatMap((x, i) => (x ? [i] : []));
    r.feed(K("remote", s1!));
    assert.deepEqual(r.feed(K("remote", s2!)).filter((l) => l.startsWith("spawn")).map((l) => l.split(" ").pop()), ["c@two.test"]);
  });
  it("a VERP sender makes every recipient its own transaction (qm rspawn cannot group them)", () => {
    const r = remoteRun({ 5: ["a@far.test", "b@far.test", "c@far.test"] }, 2, "list-@[]");
    assert.equal(running(r).length, 2);
    assert.equal(r.m.chans.remote.busy, 2);
  });
  it(`a transaction holds at most ${GROUP_MAX} recipients; the status line counts transactions`, () => {
    const many = Array.from({ length: GROUP_MAX + 7 }, (_, i) => `r${i}@far.test`);
    const r = remoteRun({ 5: many }, 2);
    assert.equal(running(r).length, GROUP_MAX + 7);
    assert.equal(r.m.chans.remote.busy, 2);
    assert.equal(r.lines.filter((l) => l.startsWith("log status:")).pop(), "log status: local 0/10 remote 2/2");
    const one = remoteRun({ 5: many }, 1);
    assert.equal(running(one).length, GROUP_MAX);
    assert.equal(one.m.chans.remote.busy, 1);
  });
  it("local deliveries stay one unit each", () => {
    const r = started(["a@example.test", "b@example.test", "c@example.test"], [], { once: false, controls: { concurrency: { local: 2, remote: 20 } } });
    assert.equal(r.m.chans.local.inflight, 2);
    assert.equal(r.m.chans.local.busy, 2);
  });
});

describe("queue manager: SIGHUP's reload", () => {
  const reload = (over: Partial<SendControls>, changed: string[] = []): Event => ({ kind: "controls", r: ok({ ...CONTROLS, ...over }), changed });

  it("a lowered concurrency retires the slots above it as they report, and starts nothing until there is room", () => {
    const rcpts = ["a@example.test", "b@example.test", "c@example.test", "d@example.test", "e@example.test"];
    const r = started(rcpts, [], { once: false, controls: { concurrency: { local: 3, remote: 20 } } });
    assert.equal(r.m.chans.local.inflight, 3);
    assert.deepEqual(r.feed(reload({ concurrency: { local: 1, remote: 20 } }, ["concurrencylocal"])), [
      "log send: reload: reloaded control files; changed: concurrencylocal",
      "log status: local 3/1 remote 0/20",
    ]);
    // slot 2 reports: 2 still in flight, over the limit: nothing starts, and slot 2 is not handed out again
    assert.deepEqual(r.feed(K("local", 2)), ["log delivery 3: success: did_1+0+0/", "markDone local 5 @32", "log status: local 2/1 remote 0/20"]);
    assert.deepEqual(r.feed(K("local", 1)), ["log delivery 2: success: did_1+0+0/", "markDone local 5 @16", "log status: local 1/1 remote 0/20"]);
    // slot 0, the one left under the limit, is where the next delivery goes
    assert.deepEqual(r.feed(K("local", 0)), [
      "log delivery 1: success: did_1+0+0/",
      "markDone local 5 @0",
      "log status: local 0/1 remote 0/20",
      "spawn local slot 0 msg 5 <joe@x.test> d@example.test",
      "log starting delivery 4: msg 5 to local d@example.test",
      "log status: local 1/1 remote 0/20",
    ]);
    assert.deepEqual(r.feed(K("local", 2)), ["log warning: internal error: delivery report out of range"], "a retired slot is not in use");
  });

  it("a raised concurrency starts more deliveries at once", () => {
    const r = started(["a@example.test", "b@example.test", "c@example.test"], [], { once: false, controls: { concurrency: { local: 1, remote: 20 } } });
    assert.deepEqual(r.feed(reload({ concurrency: { local: 3, remote: 20 } }, ["concurrencylocal"])), [
      "log send: reload: reloaded control files; changed: concurrencylocal",
      "log status: local 1/3 remote 0/20",
      "spawn local slot 1 msg 5 <joe@x.test> b@example.test",
      "log starting delivery 2: msg 5 to local b@example.test",
      "log status: local 2/3 remote 0/20",
      "spawn local slot 2 msg 5 <joe@x.test> c@example.test",
      "log starting delivery 3: msg 5 to local c@example.test",
      "log status: local 3/3 remote 0/20",
    ]);
  });

  it("routes the next message with the new locals and bounces with the new bounce settings", () => {
    const r = machine({ once: false });
    r.feed({ kind: "start" }, { kind: "go" });
    assert.equal(r.m.route("joe@other.test").channel, "remote");
    const locals = new Set(["example.test", "other.test"]);
    assert.deepEqual(r.feed(reload({ rules: { ...CONTROLS.rules, locals }, bounce: { ...CONTROLS.bounce, bouncefrom: "bounces" } }, ["locals", "bouncefrom"])), [
      "log send: reload: reloaded control files; changed: locals bouncefrom",
      "log status: local 0/10 remote 0/20",
    ]);
    assert.equal(r.m.route("joe@other.test").channel, "local");
    assert.equal(r.m.c.bounce.bouncefrom, "bounces");
  });

  it("keeps the old controls when they cannot be read, and says so", () => {
    const r = machine({ once: false });
    r.feed({ kind: "start" }, { kind: "go" });
    assert.deepEqual(r.feed({ kind: "controls", r: temp("Unable to read control/locals: EACCES"), changed: [] }), [
      "log alert: unable to reread controls: Unable to read control/locals: EACCES; the old ones stay in force",
    ]);
    assert.equal(r.m.c, r.m.cfg.controls);
  });

  it("cannot start a spawner that was not started: a channel that was 0 says a restart is needed", () => {
    const r = machine({ once: false, controls: { concurrency: { local: 10, remote: 0 } } });
    (r.m.chans.remote as { spawner: boolean }).spawner = false;
    r.feed({ kind: "start" }, { kind: "go" });
    assert.deepEqual(r.feed(reload({}, ["concurrencyremote"])), [
      "log send: reload: reloaded control files; changed: concurrencyremote",
      "log warning: concurrencyremote is 20, but qm send started without a remote spawner (it was 0): restart qm send to deliver remote mail",
      "log status: local 0/10 remote 0/20",
    ]);
  });
});

describe("queue manager: qm qctl (hold marks, freeze and resume)", () => {
  it("schedules no held message, from info/ or todo/, and still completes a held one with nothing pending, mark gone before its files", () => {
    const info: KnownMessage[] = [
      { id: 8, birth: T0, sender: "s@x.test", channels: new Map([["remote", T0]]), held: true },
      { id: 9, birth: T0, sender: "s@x.test", channels: new Map(), held: true },
    ];
    const r = machine({ force: true, world: { info, channels: new Map([["remote/8", records("r@far.test")], ["local/5", records("a@example.test")]]), todo: [5], fresh: new Map([[5, { ...fresh(5, "joe@x.test", ["local"]), held: true }]]) } });
    assert.deepEqual(r.feed({ kind: "start" }), ["cleanPid", "scanInfo", "readKnown 8", "readKnown 9", "readBounce 9", "defer bounced", "cleanOrphans", "log status: local 0/10 remote 0/20"]);
    r.feed({ kind: "go" }, { kind: "intake", warnings: [] });
    const out = r.feed({ kind: "released", r: ok(undefined) });
    assert.deepEqual(out.filter((l) => /readChannel|spawn/.test(l)), [], "nothing held is delivered");
    assert.deepEqual(r.m.chans.remote.queue.heap, []);
    assert.deepEqual(r.feed(bounced(9, NONE)), ["log end msg 9", "clearMark 9", "finishMessage 9", "log status: local 0/10 remote 0/20", "shutdown 5000"], "a queue run with only held mail left is over");
    assert.deepEqual([...r.m.msgs.keys()].sort(), [5, 8]);
  });

  it("a hold that comes while a message is taken in (preprocessed, todo/ not yet released) is read from disk once it is released", () => {
    const r = machine({ once: false, world: { channels: new Map([["local/5", records("a@example.test")]]), todo: [5], fresh: new Map([[5, fresh(5, "joe@x.test", ["local"])]]) } });
    r.feed({ kind: "start" });
    assert.ok(r.feed({ kind: "go" }, { kind: "intake", warnings: [] }).includes("preprocess 5"));
    // qm qctl hold 5 on the control socket: freeze, the mark written (todo/5 is still there, so the message is not read), resume
    r.feed({ kind: "freeze", ids: [5], del: false });
    r.world.info = [{ id: 5, birth: T0, sender: "joe@x.test", channels: new Map([["local", T0]]), held: true }];
    r.feed({ kind: "resume", ids: [5] });
    const out = r.feed({ kind: "released", r: ok(undefined) }); // todo/5 is gone now: the message is read from disk, held
    assert.ok(out.includes("readKnown 5"), out.join("\n"));
    assert.deepEqual(out.filter((l) => /spawn|readChannel/.test(l)), [], "what preprocess saw before the hold is not used");
    assert.equal(r.m.msgs.get(5)?.held, true);
    assert.equal(r.m.todo.stale.size, 0);
  });

  it("freezes a message: opens no pass, checkpoints the result under way, then reads it again from disk on resume", () => {
    const r = started(["a@example.test", "b@example.test"], [], { once: false, controls: { concurrency: { local: 1, remote: 20 } } });
    assert.deepEqual(r.feed({ kind: "freeze", ids: [5], del: false }), []);
    assert.equal(busy(r.m, [5]), true);
    // the abandoned pass's last result is still checkpointed (a D mark, never the unlink), and nothing more is started
    assert.deepEqual(r.feed(K("local", 0)), ["log delivery 1: success: did_1+0+0/", "markDone local 5 @0", "log status: local 0/1 remote 0/20"]);
    assert.equal(busy(r.m, [5]), false);
    // qctl changed it on disk (here: flushed, its first recipient done); resume reads it and delivers the rest
    r.world.info = [{ id: 5, birth: T0, sender: "joe@x.test", channels: new Map([["local", T0]]) }];
    r.world.channels.set("local/5", [{ offset: 0, addr: "a@example.test", done: true }, { offset: 16, addr: "b@example.test", done: false }]);
    assert.deepEqual(r.feed({ kind: "resume", ids: [5] }), [
      "readKnown 5",
      "readChannel local 5",
      "spawn local slot 0 msg 5 <joe@x.test> b@example.test",
      "log starting delivery 2: msg 5 to local b@example.test",
      "log status: local 1/1 remote 0/20",
      "takeMaildrop",
    ]);
  });

  it("resumes a held message as held: it stays known and unscheduled", () => {
    const r = started([], ["t@far.test"], { once: false });
    r.feed(Z("remote", 0));
    r.feed({ kind: "freeze", ids: [5], del: false });
    r.world.info = [{ id: 5, birth: T0, sender: "joe@x.test", channels: new Map([["remote", T0]]), held: true }];
    assert.deepEqual(r.feed({ kind: "resume", ids: [5] }).filter((l) => /readKnown|spawn/.test(l)), ["readKnown 5"]);
    assert.deepEqual(r.m.chans.remote.queue.heap, []);
    assert.equal(r.m.msgs.get(5)?.held, true);
  });

  it("after a delete, a late result touches no file, even of a new message that reused the id", () => {
    const r = started(["a@example.test"], [], { once: false });
    assert.deepEqual(r.feed({ kind: "freeze", ids: [5], del: true }), []);
    assert.equal(busy(r.m, [5]), false, "a delete does not wait for the delivery under way");
    assert.equal(r.m.msgs.has(5), false);
    // qctl deleted it; resume does not read it again while its delivery is under way
    assert.deepEqual(r.feed({ kind: "resume", ids: [5] }), ["takeMaildrop"]);
    // a new message gets the freed inode, so the same id
    r.world.todo = [5];
    r.world.fresh.set(5, fresh(5, "new@x.test", ["local"]));
    r.world.channels.set("local/5", records("c@example.test"));
    r.feed({ kind: "intake", warnings: [] });
    assert.deepEqual(r.feed({ kind: "released", r: ok(undefined) }).filter((l) => /spawn/.test(l)), ["spawn local slot 1 msg 5 <new@x.test> c@example.test"]);
    // the deleted message's late result: logged, and nothing else (no mark, no unlink, no completion)
    assert.deepEqual(r.feed(K("local", 0)), ["log delivery 1: success: did_1+0+0/", "log status: local 1/10 remote 0/20"]);
    assert.equal(r.m.msgs.get(5)?.sender, "new@x.test");
    // the new message's own result completes it
    assert.deepEqual(r.feed(K("local", 1)).slice(0, 3), ["log delivery 2: success: did_1+0+0/", "removeChannel local 5", "log status: local 0/10 remote 0/20"]);
  });
});

describe("queue manager: delivery status notifications (RFC 3461)", () => {
  const state = (rcpts: [string, RcptDsn][], warned = false): DsnState => ({ dsn: { rcpts: new Map(rcpts) }, warned, done: [] });
  /** Like started(), message 5 with queue/dsn/ state `dsn`. */
  function startedDsn(local: string[], remote: string[], dsn: DsnState | undefined, opts: Parameters<typeof machine>[0] = {}, sender = "joe@x.test"): Run {
    const chans: Channel[] = [...(local.length ? ["local" as const] : []), ...(remote.length ? ["remote" as const] : [])];
    const r = machine({ ...opts, world: { todo: [5], fresh: new Map([[5, { ...fresh(5, sender, chans), ...(dsn ? { dsn } : {}) }]]), channels: new Map([["local/5", records(...local)], ["remote/5", records(...remote)]]) } });
    r.feed({ kind: "start" }, { kind: "go" }, { kind: "intake", warnings: [] }, { kind: "released", r: ok(undefined) });
    return r;
  }

  it("NOTIFY=NEVER: a failure writes no bounce paragraph, and no bounce goes out", () => {
    const r = startedDsn(["bad@example.test"], [], state([["bad@example.test", { notify: "NEVER" }]]));
    assert.deepEqual(r.feed(D("local", 0)), ["log delivery 1: failure: no_mailbox/", "removeChannel local 5", "log status: local 0/10 remote 0/20", "readBounce 5", "defer bounced"]);
  });

  it("NOTIFY=SUCCESS on local delivery: the success is written before its mark, and one delivered notice goes at the end", () => {
    const r = startedDsn(["a@example.test", "b@example.test"], [], state([["a@example.test", { notify: ["SUCCESS"] }]]));
    assert.deepEqual(r.feed(K("local", 0)), ["log delivery 1: success: did_1+0+0/", "appendDsn 5 done delivered a@example.test did+201+2B0+2B0+0A", "markDone local 5 @0", "log status: local 1/10 remote 0/20"]);
    assert.deepEqual(r.feed(K("local", 1)).slice(-2), ["readBounce 5", "submitBounce 5 delivered <> to joe@x.test"]);
    assert.deepEqual(r.feed(bounced(5, ok<Bounced>({ kind: "sent", notice: 78 }))).slice(0, 3), ["removeBounce 5", "log notice msg 5 qp 78: delivered", "log end msg 5"]);
  });

  it("a failure and a success: the bounce first, then the notice, in one step", () => {
    const r = startedDsn(["a@example.test", "bad@example.test"], [], state([["a@example.test", { notify: ["SUCCESS", "FAILURE"] }]]));
    r.feed(K("local", 0));
    assert.deepEqual(r.feed(D("local", 1)).slice(-1), ["submitBounce 5 <> to joe@x.test + delivered <> to joe@x.test"]);
  });

  it("remote: a relayed notice only when the report says the next server offers no DSN", () => {
    const r = startedDsn([], ["a@far.test", "b@far.test"], state([["a@far.test", { notify: ["SUCCESS"] }], ["b@far.test", { notify: ["SUCCESS"] }]]));
    assert.deepEqual(r.feed(K("remote", 0, "1.2.3.4 accepted message.\nRemote host said: 250 ok\n")).filter((l) => l.startsWith("appendDsn")), []);
    const relayed = r.feed(K("remote", 1, `1.2.3.4 accepted message.\nRemote host said: 250 ok\n${RELAYED_NOTE}`));
    assert.deepEqual(relayed.filter((l) => l.startsWith("appendDsn")), ["appendDsn 5 done relayed b@far.test 1.2.3.4+20accepted+20message.+0ARemote+20host+20said:+20250+20ok+0A"]);
    assert.equal(relayed.at(-1), "submitBounce 5 relayed <> to joe@x.test");
  });

  it("no success notice for the null sender, nor without NOTIFY=SUCCESS", () => {
    const r = startedDsn(["a@example.test"], [], state([["a@example.test", { notify: ["SUCCESS"] }]]), {}, "");
    assert.deepEqual(r.feed(K("local", 0)).slice(-2), ["readBounce 5", "defer bounced"]);
    const plain = startedDsn(["a@example.test"], [], undefined);
    assert.deepEqual(plain.feed(K("local", 0)).filter((l) => l.startsWith("appendDsn")), []);
  });

  it("control/delaywarning: a pass that defers a message older than that warns its sender, exactly once", () => {
    const r = startedDsn(["a@example.test"], [], undefined, { once: false, controls: { delaywarning: 100 } });
    r.clock = T0 + 99;
    assert.ok(!r.feed(Z("local", 0)).some((l) => l.startsWith("submitWarning")), "not yet");
    r.clock = T0 + 200;
    r.feed({ kind: "alrm" });
    const out = r.feed(Z("local", 0));
    assert.ok(out.includes("submitWarning 5 <> to joe@x.test"), out.join("\n"));
    assert.ok(out.indexOf("setRetry local 5 birth+600") < out.indexOf("submitWarning 5 <> to joe@x.test"), "after the retry is set");
    assert.deepEqual(r.feed({ kind: "warned", id: 5, r: ok({ qp: 9 }) }), ["log notice msg 5 qp 9: delayed", "writeDsn 5 warned"]);
    r.feed({ kind: "alrm" });
    assert.ok(!r.feed(Z("local", 0)).some((l) => l.startsWith("submitWarning")), "only once");
  });

  it("a delay warning that could not be queued is tried at the next deferral; completion waits for one under way", () => {
    const r = startedDsn(["a@example.test"], [], undefined, { once: false, controls: { delaywarning: 100 } });
    r.clock = T0 + 200;
    assert.ok(r.feed(Z("local", 0)).includes("submitWarning 5 <> to joe@x.test"));
    assert.deepEqual(r.feed({ kind: "warned", id: 5, r: temp("qq soft reject") }), ["log warning: trouble injecting delay warning, will try after the next deferral: qq soft reject"]);
    r.feed({ kind: "alrm" });
    assert.ok(r.feed(Z("local", 0)).includes("submitWarning 5 <> to joe@x.test"), "tried again");
    r.feed({ kind: "alrm" });
    assert.ok(!r.feed(K("local", 0)).includes("readBounce 5"), "the message waits for its warning");
    const after = r.feed({ kind: "warned", id: 5, r: ok({ qp: 9 }) });
    assert.deepEqual(after.slice(0, 4), ["log notice msg 5 qp 9: delayed", "writeDsn 5 warned", "readBounce 5", "defer bounced"]);
  });

  it("no delay warning for NOTIFY without DELAY, for the null sender, or when delaywarning is 0", () => {
    const cases: [DsnState | undefined, string, number][] = [[state([["a@example.test", { notify: ["FAILURE"] }]]), "joe@x.test", 100], [undefined, "", 100], [undefined, "joe@x.test", 0]];
    for (const [dsn, sender, after] of cases) {
      const r = startedDsn(["a@example.test"], [], dsn, { once: false, controls: { delaywarning: after } }, sender);
      r.clock = T0 + 100_000;
      assert.ok(!r.feed(Z("local", 0)).some((l) => l.startsWith("submitWarning")), `${sender} ${after}`);
    }
  });
});
