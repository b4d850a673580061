/**
 * One `qm qctl` change, from the words to the queue (qm-qctl(8)): which
 * messages it names, and the change made to each (edit.ts). Shared by qctl
 * itself (no qm send running) and by a running qm send, which calls the same
 * functions for a request on its control socket, between deliveries.
 */
import { matches, type Op, type QctlCommand, type Selection } from "../../lib/queue/qctl.ts";
import { ok, perm, type Fail, type Result } from "../../lib/base/result.ts";
import type { Reply } from "../../lib/queue/control-wire.ts";
import { readSendControls, type SendControls } from "../send/controls.ts";
import * as edit from "./edit.ts";
import { scanQueue } from "./read.ts";

export type ChangeOp = Exclude<Op, "list" | "show">;

/** The ids a command names: those given, or every message a selector matches (flush with nothing: every message). */
export async function selectTargets(sel: Selection, home: string, nowMs: number, emptyMeansAll: boolean): Promise<Result<number[]>> {
  const bySelector = sel.domain !== undefined || sel.sender !== undefined || sel.all === true;
  if (!bySelector && !(emptyMeansAll && sel.ids.length === 0)) return ok([...new Set(sel.ids)]);
  const ids: number[] = [];
  for await (const e of scanQueue(home)) {
    if (e.kind === "fatal") return e.fail;
    if (e.kind === "message" && matches(e.message, sel, nowMs)) ids.push(e.message.id);
  }
  return ok(ids);
}

export interface ChangeContext {
  readonly home: string;
  readonly queue: string;
  readonly controls: SendControls | null;
  readonly reason: string;
  readonly nowMs: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** The control files a change needs: requeue and bounce route and bounce as qm send does. */
export async function changeControls(op: ChangeOp, home: string): Promise<Result<SendControls | null>> {
  if (op !== "requeue" && op !== "bounce") return ok(null);
  return readSendControls(home);
}

/** The change on one message: its line for the output, or null when there is no such message. */
export async function changeOne(op: ChangeOp, id: number, c: ChangeContext): Promise<Result<string | null>> {
  let r: Result<boolean>;
  let note = "";
  if (op === "delete") r = await edit.deleteMessage(c.queue, id);
  else if (op === "hold") r = await edit.holdMessage(c.queue, id);
  else if (op === "release") r = await edit.releaseMessage(c.queue, id);
  else if (op === "flush") r = edit.flushMessage(c.queue, id, Math.floor(c.nowMs / 1000));
  else if (op === "requeue") r = await edit.requeueMessage(c.queue, id, c.controls!.rules);
  else {
    const b = await edit.bounceMessage(c.queue, id, { home: c.home, reason: c.reason, rules: c.controls!.rules, bounce: c.controls!.bounce, me: c.controls!.me, nowMs: c.nowMs, env: c.env });
    r = b.kind === "ok" ? ok(b.value.found) : b;
    if (b.kind === "ok" && b.value.qp !== undefined) note = ` (bounce qp ${b.value.qp})`;
  }
  if (r.kind !== "ok") return r;
  return ok(r.value ? `${PAST.get(op)} #${id}${note}\n` : null);
}

const PAST = new Map<ChangeOp, string>([["delete", "deleted"], ["hold", "held"], ["release", "released"], ["flush", "flushed"], ["requeue", "requeued"], ["bounce", "bounced"]]);

export function unknownIds(ids: readonly number[]): Fail {
  return perm(`No such message in the queue: ${ids.slice(0, 10).map((i) => `#${i}`).join(" ")}${ids.length > 10 ? " ..." : ""}`, "5.3.0");
}

/** A whole command, message by message; `out` gets each message's line as it is done. */
export async function applyChange(cmd: QctlCommand, base: Omit<ChangeContext, "controls" | "reason">, out: (line: string) => Promise<boolean> | boolean): Promise<Result<number>> {
  const op = cmd.op as ChangeOp;
  const targets = await selectTargets(cmd.sel, base.home, base.nowMs, op === "flush");
  if (targets.kind !== "ok") return targets;
  const controls = await changeControls(op, base.home);
  if (controls.kind !== "ok") return controls;
  const c: ChangeContext = { ...base, controls: controls.value, reason: cmd.reason };
  const missing: number[] = [];
  let n = 0;
  for (const id of targets.value) {
    const r = await changeOne(op, id, c);
    if (r.kind !== "ok") return r;
    if (r.value === null) missing.push(id);
    else if (!(await out(r.value))) return perm("Unable to write the output: broken pipe", "5.3.0");
    else n++;
  }
  return missing.length > 0 ? unknownIds(missing) : ok(n);
}

/** What a running queue manager lends a request on its control socket. */
export interface ManagerHooks {
  /**
   * Start no more deliveries of these messages and wait (boundedly) until
   * none is under way; false when some still are (the request is then
   * refused as temporary). Delete need not wait: see forget().
   */
  quiesce(ids: readonly number[], op: ChangeOp): Promise<boolean>;
  /** Read these messages again from disk (gone, held, released, flushed, requeued) and go on with them. */
  resume(ids: readonly number[]): void;
}

/**
 * A request on the control socket, as the queue manager runs it: the same
 * selection and the same changes as qctl's own (applyChange), between the
 * manager's deliveries. list and show never come here (qctl reads those).
 */
export async function handleRequest(cmd: QctlCommand, base: Omit<ChangeContext, "controls" | "reason">, hooks: ManagerHooks): Promise<Reply> {
  if (cmd.op === "list" || cmd.op === "show") return { code: 100, out: "", err: `qctl ${cmd.op} is not a change` };
  const op = cmd.op;
  const targets = await selectTargets(cmd.sel, base.home, base.nowMs, op === "flush");
  if (targets.kind !== "ok") return failReply(targets);
  const controls = await changeControls(op, base.home);
  if (controls.kind !== "ok") return failReply(controls);
  if (!(await hooks.quiesce(targets.value, op))) {
    hooks.resume(targets.value);
    return { code: 111, out: "", err: "Deliveries of these messages are under way; try again in a minute" };
  }
  const c: ChangeContext = { ...base, controls: controls.value, reason: cmd.reason };
  const missing: number[] = [];
  let out = "";
  try {
    for (const id of targets.value) {
      const r = await changeOne(op, id, c);
      if (r.kind !== "ok") return failReply(r, out);
      if (r.value === null) missing.push(id);
      else out += r.value;
    }
  } finally {
    hooks.resume(targets.value);
  }
  return missing.length > 0 ? failReply(unknownIds(missing), out) : { code: 0, out, err: "" };
}

function failReply(f: Fail, out = ""): Reply {
  return { code: f.kind === "perm" ? 100 : 111, out, err: f.reason };
}
