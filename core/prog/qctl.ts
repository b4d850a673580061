/**
 * `qm qctl` (qm-qctl(8)): queue control. list and show only read, as qm qread
 * does. A change (delete, hold, release, flush, requeue, bounce) goes to the
 * running qm send over its control socket, which makes it between its
 * deliveries; with no qm send running, qctl makes it on disk itself under the
 * send mutex, so no queue manager can start meanwhile.
 */
import { fromBytes, toBytes } from "../lib/base/bytes.ts";
import { formatListEntry, matches, messageJson, type QctlCommand } from "../lib/queue/qctl.ts";
import { ok, temp, type Result } from "../lib/base/result.ts";
import { applyChange, unknownIds } from "../io/queue/change.ts";
import { finishDeletes } from "../io/queue/edit.ts";
import { readHeader, readQueued, scanQueue } from "../io/queue/read.ts";
import { takeSendMutex } from "../io/queue/trigger.ts";
import { FENCE_BUSY, waitFence } from "../io/queue/fence.ts";
import { askControl, mayControl } from "../io/queue/control.ts";
import { replyResult } from "../lib/queue/control-wire.ts";
import { dropToQueueOwner } from "../io/queue/owner.ts";
import { queueDir } from "../lib/queue/layout.ts";
import { formatDsnLines } from "../lib/queue/dsn.ts";
import { readMessageDsn } from "../io/queue/dsn.ts";

export interface QctlOptions {
  readonly home: string;
  /** The words after "qctl", sent as they are to a running qm send. */
  readonly argv: readonly string[];
  /** Answers false once the output can no longer be written (the reader went away). */
  readonly out: (text: string) => Promise<boolean> | boolean;
  readonly clock?: () => number;
  readonly env?: NodeJS.ProcessEnv;
}

const MAX_HEADER = 65536;
const START_TRIES = 40; // × START_WAIT: how long a qm send that holds the mutex may take to open its control socket
const START_WAIT = 250;
const FENCE_MS = 15_000; // how long the spawners of a killed qm send may take to exit
const utf8 = (s: string): string => new TextDecoder().decode(toBytes(s));

export async function qctl(cmd: QctlCommand, o: QctlOptions): Promise<Result<number>> {
  const now = o.clock ?? Date.now;
  if (cmd.op === "list") return list(cmd, o, now());
  if (cmd.op === "show") return show(cmd.sel.ids[0]!, o, now());
  const queue = queueDir(o.home);
  const may = mayControl(queue);
  if (may.kind !== "ok") return may;
  dropToQueueOwner(queue); // files qctl makes (marks, bounces, the mutex) must be the queue owner's, as qm send's are
  // a running qm send makes the change itself, between its deliveries; one that is starting gets a few seconds to listen
  for (let tries = 0; ; tries++) {
    const asked = await askControl(queue, o.argv);
    if (asked.kind !== "ok") return asked;
    if (asked.value.kind === "reply") {
      const reply = asked.value.reply; // out has the messages changed, also when some id was unknown
      if (reply.out !== "" && !(await o.out(reply.out))) return broken();
      const r = replyResult(reply);
      return r.kind === "ok" ? ok(reply.out.split("\n").length - 1) : r;
    }
    const mutex = takeSendMutex(queue, "qctl");
    if (mutex.kind === "ok") return direct(cmd, queue, mutex.value, o, now);
    if (tries >= START_TRIES) return temp(`${mutex.reason}, but does not answer on lock/control/qctl; try again`);
    await new Promise((r) => setTimeout(r, START_WAIT));
  }
}

/** No qm send runs: the change is made here, under the send mutex, as the queue's owner. */
async function direct(cmd: QctlCommand, queue: string, mutex: { release(): void }, o: QctlOptions, now: () => number): Promise<Result<number>> {
  try {
    // a killed qm send's spawners could still start a delivery after this change is acknowledged (io/queue/fence.ts)
    const fenced = await waitFence(queue, FENCE_MS);
    if (fenced.kind !== "ok") return temp(fenced.reason === FENCE_BUSY ? `${FENCE_BUSY}; try again` : fenced.reason);
    const redone = await finishDeletes(queue);
    if (redone.kind !== "ok") return redone;
    return await applyChange(cmd, { home: o.home, queue, nowMs: now(), env: o.env }, o.out);
  } finally {
    mutex.release();
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
  const dsn = formatDsnLines(readMessageDsn(queueDir(o.home), id)).map((l) => `  ${l}\n`).join("");
  const text = `${formatListEntry(e.message, nowMs)}${dsn}\n${fromBytes(toBytes(header.value)).replace(/\r\n/g, "\n")}`;
  return (await o.out(text.endsWith("\n") ? text : `${text}\n`)) ? ok(1) : broken();
}

function unknown(ids: readonly number[]): Result<never> {
  return unknownIds(ids);
}
function broken(): Result<never> {
  return temp("Unable to write the listing: broken pipe", "4.3.0");
}

/**
 * `sendmail -q` and `qm send --once` while a qm send runs: ask it to flush
 * the queue. ok(true) when it did, ok(false) when none answers (the caller
 * then runs the queue itself).
 */
export async function flushRunningSend(home: string): Promise<Result<boolean>> {
  const queue = queueDir(home);
  const asked = await askControl(queue, ["flush"]);
  if (asked.kind !== "ok") return asked;
  if (asked.value.kind === "absent") return ok(false);
  const r = replyResult(asked.value.reply);
  return r.kind === "ok" ? ok(true) : r;
}
