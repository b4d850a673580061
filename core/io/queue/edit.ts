/**
 * The queue changes of `qm qctl` (qm-qctl(8)), made on disk by whoever holds
 * the send mutex: qctl itself when no qm send runs. Each is ordered so that a
 * crash at any point leaves a message that is either untouched, held, or
 * complete without anything left to deliver; none can leave a deleted
 * recipient deliverable or lose one that was not deleted.
 */
import { closeSync, constants, existsSync, fsyncSync, openSync, renameSync, unlinkSync, utimesSync, writeSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { toBytes } from "../../lib/base/bytes.ts";
import { flatPath, splitPath, SPLIT, type SplitDir } from "../../lib/queue/layout.ts";
import { resplit, type PendingRecord } from "../../lib/queue/requeue.ts";
import { readDsn, removeDsn } from "./dsn.ts";
import { bounceParagraph, planBounce, type BounceControls } from "../../lib/send/bounce.ts";
import { buildNotice } from "../../lib/send/notice.ts";
import { wants, type MessageDsn } from "../../lib/queue/dsn.ts";
import { bounceRecipient, type Channel, type RewriteRules } from "../../lib/send/rewrite.ts";
import { ok, temp, type Result } from "../../lib/base/result.ts";
import { fsyncPath } from "../base/sys.ts";
import { errText, isMissing } from "../base/errno.ts";
import { submitBounce } from "./bounce.ts";
import { clearMark, readMark, scanMarks, setMark } from "./hold.ts";
import { removeStatus } from "./status.ts";
import * as store from "./store.ts";

const CHANNELS = ["local", "remote"] as const;
export type Stage = "todo" | "queued" | "gone";

/** todo: not yet preprocessed (todo/ wins over a half-made info); queued: info/local/remote; gone: no such message. */
export function stageOf(queue: string, id: number): Stage {
  if (existsSync(join(queue, flatPath("todo", id)))) return "todo";
  if (existsSync(join(queue, splitPath("info", id)))) return "queued";
  return "gone";
}

function unlinkIfThere(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
}
const split = (queue: string, dir: SplitDir, id: number) => join(queue, dir, String(id % SPLIT));

/**
 * Delete: (1) a durable "delete" mark; (2) todo, channel files, bounce and
 * status record go, their directories fsynced; (3) the mark goes; (4) mess,
 * intd and info go, as at a message's end. After (2) nothing is left to
 * deliver or bounce; the mess file outlives the mark, so its inode (the id)
 * cannot be reused by a new message while the mark exists. A crash in (1)-(2)
 * is finished by finishDeletes(); after (3), qm send completes the rest.
 */
export async function deleteMessage(queue: string, id: number): Promise<Result<boolean>> {
  if (stageOf(queue, id) === "gone" && readMark(queue, id) === null) return ok(false);
  const mark = await setMark(queue, id, "delete");
  if (mark.kind !== "ok") return mark;
  try {
    unlinkIfThere(join(queue, flatPath("todo", id)));
    for (const c of CHANNELS) unlinkIfThere(join(queue, splitPath(c, id)));
    unlinkIfThere(join(queue, flatPath("bounce", id)));
    removeDsn(queue, id);
    removeStatus(queue, id);
    await Promise.all([join(queue, "todo"), join(queue, "bounce"), split(queue, "local", id), split(queue, "remote", id)].map((d) => fsyncPath(d, { directory: true })));
  } catch (err) {
    return temp(`unable to remove the files of ${id}: ${errText(err)}`);
  }
  const cleared = await clearMark(queue, id);
  if (cleared.kind !== "ok") return cleared;
  const f = store.finishMessage(queue, id);
  return f.kind === "ok" ? ok(true) : f;
}

/** Deletions a crash interrupted (a "delete" mark left behind), finished; returns their ids. */
export async function finishDeletes(queue: string): Promise<Result<number[]>> {
  const marks = scanMarks(queue);
  if (marks.kind !== "ok") return marks;
  const done: number[] = [];
  for (const id of marks.value) {
    if (readMark(queue, id) !== "delete") continue;
    const r = await deleteMessage(queue, id);
    if (r.kind !== "ok") return r;
    done.push(id);
  }
  return ok(done);
}

/** Hold: false when there is no such message. A message being deleted stays marked for deletion. */
export async function holdMessage(queue: string, id: number): Promise<Result<boolean>> {
  if (stageOf(queue, id) === "gone") return ok(false);
  if (readMark(queue, id) !== null) return ok(true);
  const r = await setMark(queue, id, "hold");
  return r.kind === "ok" ? ok(true) : r;
}

/** Release: false when there is no such message; a half-done delete is finished rather than released. */
export async function releaseMessage(queue: string, id: number): Promise<Result<boolean>> {
  const mark = readMark(queue, id);
  if (mark === "delete") return deleteMessage(queue, id).then((r) => (r.kind === "ok" ? ok(false) : r));
  if (stageOf(queue, id) === "gone") return ok(false);
  const r = await clearMark(queue, id);
  return r.kind === "ok" ? ok(true) : r;
}

/** Flush: every pending channel of the message due now (its file's mtime, which qm send reads as the next try). */
export function flushMessage(queue: string, id: number, nowSec: number): Result<boolean> {
  const stage = stageOf(queue, id);
  if (stage !== "queued") return ok(stage === "todo");
  for (const c of CHANNELS) {
    try {
      utimesSync(join(queue, splitPath(c, id)), nowSec, nowSec);
    } catch (err) {
      if (!isMissing(err)) return temp(`unable to touch ${c}/${id}: ${errText(err)}`);
    }
  }
  return ok(true);
}

/**
 * Requeue: the pending recipients split again (core/lib/queue/requeue.ts)
 * and the channel files replaced, each by a fsynced tmp file renamed over it.
 * The channel that gains recipients is replaced first, so a crash between
 * the two renames can deliver a recipient twice, never lose one. Done
 * records are dropped; the new files are due now.
 */
export async function requeueMessage(queue: string, id: number, rules: RewriteRules): Promise<Result<boolean>> {
  const stage = stageOf(queue, id);
  if (stage !== "queued") return ok(stage === "todo"); // todo/ is split when qm send takes it in, with today's controls
  const pending: PendingRecord[] = [];
  const before: Record<Channel, Set<string>> = { local: new Set(), remote: new Set() };
  for (const c of CHANNELS) {
    const recs = store.readChannel(queue, c, id);
    if (recs.kind !== "ok") return recs;
    for (const r of recs.value) {
      if (r.done) continue;
      pending.push({ channel: c, addr: r.addr });
      before[c].add(r.addr);
    }
  }
  const after = resplit(pending, rules);
  const gains = (c: Channel) => after[c].some((a) => !before[c].has(a));
  const order = [...CHANNELS].sort((a, b) => Number(gains(b)) - Number(gains(a)));
  try {
    for (const c of order) {
      const path = join(queue, splitPath(c, id));
      if (after[c].length === 0) unlinkIfThere(path);
      else writeDurably(path, toBytes(after[c].map((a) => `T${a}\0`).join("")));
      await fsyncPath(split(queue, c, id), { directory: true });
    }
  } catch (err) {
    return temp(`unable to rewrite the channel files of ${id}: ${errText(err)}`);
  }
  return ok(true);
}

function writeDurably(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.requeue`;
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export interface BounceNow {
  readonly home: string;
  readonly reason: string;
  readonly rules: RewriteRules;
  readonly bounce: BounceControls;
  /** control/me: the Reporting-MTA of the RFC 3464 report. */
  readonly me: string;
  readonly nowMs: number;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Bounce now: each pending recipient gets a failure paragraph, appended
 * durably before its record is marked done (as a delivery failure is), then
 * the message completes: its bounce is queued and its files go. A crash
 * leaves a message whose remaining work qm send finishes at start.
 */
export async function bounceMessage(queue: string, id: number, b: BounceNow): Promise<Result<{ found: boolean; qp?: number }>> {
  const stage = stageOf(queue, id);
  if (stage === "gone") return ok({ found: false });
  if (stage === "todo") return temp(`message ${id} is not yet taken in by qm send; bounce it once qm send has run`);
  const m = store.readMessage(queue, id);
  if (m.kind !== "ok") return m;
  if (!m.value) return ok({ found: false });
  const dsn = readDsn(queue, id);
  if (dsn.kind !== "ok") return dsn;
  for (const c of CHANNELS) {
    const recs = store.readChannel(queue, c, id);
    if (recs.kind !== "ok") return recs;
    for (const r of recs.value) {
      if (r.done) continue;
      if (!wants(dsn.value?.dsn.rcpts.get(r.addr), "FAILURE")) {
        // NOTIFY=NEVER: done without a paragraph, as qm send does
        const n = store.markDone(queue, c, id, r.offset);
        if (n.kind !== "ok") return n;
        continue;
      }
      const a = store.appendBounce(queue, id, bounceParagraph(bounceRecipient(r.addr, b.rules), b.reason));
      if (a.kind !== "ok") return a;
      const d = store.markDone(queue, c, id, r.offset);
      if (d.kind !== "ok") return d;
    }
    const rm = store.removeChannel(queue, c, id);
    if (rm.kind !== "ok") return rm;
  }
  removeStatus(queue, id);
  const sent = await queueBounce(queue, id, { sender: m.value.sender, birth: m.value.birth, dsn: dsn.value?.dsn }, b);
  if (sent.kind !== "ok") return sent;
  const cleared = await clearMark(queue, id);
  if (cleared.kind !== "ok") return cleared;
  const f = store.finishMessage(queue, id);
  if (f.kind !== "ok") return f;
  return ok(sent.value === null ? { found: true } : { found: true, qp: sent.value });
}

/** bounce/<id> into the queue as qm send does at completion (a triple bounce is dropped), then removed; the qp, or null. */
async function queueBounce(queue: string, id: number, msg: { sender: string; birth: number; dsn: MessageDsn | undefined }, b: BounceNow): Promise<Result<number | null>> {
  const text = store.readBounce(queue, id);
  if (text.kind !== "ok") return text;
  if (text.value === null) return ok(null);
  const plan = planBounce(msg.sender, b.bounce);
  if (plan.kind === "triple") {
    store.removeBounce(queue, id);
    return ok(null);
  }
  const rcpts = msg.dsn && new Map([...msg.dsn.rcpts].map(([a, r]) => [bounceRecipient(a, b.rules), r]));
  const n = buildNotice(plan, text.value, { action: "failed", controls: b.bounce, me: b.me, nowMs: b.nowMs, id, birth: msg.birth, ...(msg.dsn && rcpts ? { dsn: { ...msg.dsn, rcpts } } : {}), nonce: randomBytes(12).toString("base64url") });
  const r = await submitBounce(b.home, { ...n, mess: store.messPath(queue, id), envelope: plan.envelope, maxBytes: b.bounce.maxbytes }, b.env);
  if (r.kind !== "ok") return r;
  store.removeBounce(queue, id);
  return ok(r.value.qp);
}
