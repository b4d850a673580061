/**
 * `qm qctl` (qm-qctl(8)): queue control. list and show only read, as qm qread
 * does. The changes (delete, hold, release, flush, requeue, bounce) are made
 * on disk under the send mutex, so no queue manager runs meanwhile; while a
 * qm send runs they are refused as temporary.
 */
import { join } from "node:path";
import { fromBytes, toBytes } from "../lib/base/bytes.ts";
import { formatListEntry, matches, messageJson, type QctlCommand, type Selection } from "../lib/queue/qctl.ts";
import { ok, perm, temp, type Result } from "../lib/base/result.ts";
import * as edit from "../io/queue/edit.ts";
import { readHeader, readQueued, scanQueue } from "../io/queue/read.ts";
import { takeSendMutex } from "../io/queue/trigger.ts";
import { readSendControls, type SendControls } from "../io/send/controls.ts";
import { dropToQueueOwner } from "../io/send/spawner.ts";

export interface QctlOptions {
  readonly home: string;
  /** Answers false once the output can no longer be written (the reader went away). */
  readonly out: (text: string) => Promise<boolean> | boolean;
  readonly clock?: () => number;
  readonly env?: NodeJS.ProcessEnv;
}

const MAX_HEADER = 65536;
const utf8 = (s: string): string => new TextDecoder().decode(toBytes(s));

export async function qctl(cmd: QctlCommand, o: QctlOptions): Promise<Result<number>> {
  const now = o.clock ?? Date.now;
  if (cmd.op === "list") return list(cmd, o, now());
  if (cmd.op === "show") return show(cmd.sel.ids[0]!, o, now());
  const queue = join(o.home, "queue");
  dropToQueueOwner(queue); // files qctl makes (marks, bounces) must be the queue owner's, as qm send's are
  const mutex = takeSendMutex(queue);
  if (mutex.kind !== "ok") return temp(`${mutex.reason}; qm qctl ${cmd.op} changes the queue only while no qm send runs`);
  try {
    const redone = await edit.finishDeletes(queue);
    if (redone.kind !== "ok") return redone;
    return await change(cmd, queue, o, now);
  } finally {
    mutex.value.release();
  }
}

async function list(cmd: QctlCommand, o: QctlOptions, nowMs: number): Promise<Result<number>> {
  let n = 0;
  if (cmd.json && !(await o.out("["))) return broken();
  for await (const e of scanQueue(o.home)) {
    if (e.kind === "fatal") return e.fail;
    if (e.kind !== "message" || !matches(e.message, cmd.sel, nowMs)) continue;
    const text = cmd.json ? `${n > 0 ? "," : ""}\n${JSON.stringify(messageJson(e.message, nowMs, utf8))}` : formatListEntry(e.message, nowMs);
    n++;
    if (!(await o.out(text))) return broken();
  }
  if (cmd.json && !(await o.out(n > 0 ? "\n]\n" : "]\n"))) return broken();
  return ok(n);
}

async function show(id: number, o: QctlOptions, nowMs: number): Promise<Result<number>> {
  const e = await readQueued(o.home, id);
  if (e === null) return unknown([id]);
  if (e.kind === "fatal") return e.fail;
  if (e.kind === "trouble") return temp(`Trouble with message ${id}: ${e.reason}`);
  const header = await readHeader(o.home, id, MAX_HEADER);
  if (header.kind !== "ok") return header;
  const text = `${formatListEntry(e.message, nowMs)}\n${fromBytes(toBytes(header.value)).replace(/\r\n/g, "\n")}`;
  return (await o.out(text.endsWith("\n") ? text : `${text}\n`)) ? ok(1) : broken();
}

async function change(cmd: QctlCommand, queue: string, o: QctlOptions, now: () => number): Promise<Result<number>> {
  const targets = await select(cmd.sel, o.home, now(), cmd.op === "flush");
  if (targets.kind !== "ok") return targets;
  let c: SendControls | null = null;
  if (cmd.op === "requeue" || cmd.op === "bounce") {
    const r = await readSendControls(o.home);
    if (r.kind !== "ok") return r;
    c = r.value;
  }
  const missing: number[] = [];
  let n = 0;
  for (const id of targets.value) {
    let r: Result<boolean>;
    let note = "";
    if (cmd.op === "delete") r = await edit.deleteMessage(queue, id);
    else if (cmd.op === "hold") r = await edit.holdMessage(queue, id);
    else if (cmd.op === "release") r = await edit.releaseMessage(queue, id);
    else if (cmd.op === "flush") r = edit.flushMessage(queue, id, Math.floor(now() / 1000));
    else if (cmd.op === "requeue") r = await edit.requeueMessage(queue, id, c!.rules);
    else {
      const b = await edit.bounceMessage(queue, id, { home: o.home, reason: cmd.reason, rules: c!.rules, bounce: c!.bounce, nowMs: now(), env: o.env });
      r = b.kind === "ok" ? ok(b.value.found) : b;
      if (b.kind === "ok" && b.value.qp !== undefined) note = ` (bounce qp ${b.value.qp})`;
    }
    if (r.kind !== "ok") return r;
    if (!r.value) {
      missing.push(id);
      continue;
    }
    n++;
    if (!(await o.out(`${PAST.get(cmd.op)} #${id}${note}\n`))) return broken();
  }
  return missing.length > 0 ? unknown(missing) : ok(n);
}

const PAST = new Map([["delete", "deleted"], ["hold", "held"], ["release", "released"], ["flush", "flushed"], ["requeue", "requeued"], ["bounce", "bounced"]]);

/** The ids a command names: those given, or every message a selector matches (flush with nothing: every message). */
async function select(sel: Selection, home: string, nowMs: number, emptyMeansAll: boolean): Promise<Result<number[]>> {
  const bySelector = sel.domain !== undefined || sel.sender !== undefined || sel.all === true;
  if (!bySelector && !(emptyMeansAll && sel.ids.length === 0)) return ok([...new Set(sel.ids)]);
  const ids: number[] = [];
  for await (const e of scanQueue(home)) {
    if (e.kind === "fatal") return e.fail;
    if (e.kind === "message" && matches(e.message, sel, nowMs)) ids.push(e.message.id);
  }
  return ok(ids);
}

function unknown(ids: readonly number[]): Result<never> {
  return perm(`No such message in the queue: ${ids.slice(0, 10).map((i) => `#${i}`).join(" ")}${ids.length > 10 ? " ..." : ""}`, "5.3.0");
}
function broken(): Result<never> {
  return temp("Unable to write the listing: broken pipe", "4.3.0");
}
