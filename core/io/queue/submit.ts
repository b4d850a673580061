import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Envelope } from "../../lib/queue/envelope.ts";
import { qqFail } from "../../lib/queue/codes.ts";
import { ok, type Result } from "../../lib/base/result.ts";
import { enqueue, pullTrigger, type Invoker } from "./enqueue.ts";
import { writeMaildrop, type Message } from "./maildrop.ts";
import { queuedSocket } from "../../lib/queue/layout.ts";

export type { Invoker } from "./enqueue.ts";

/** qp: the queueing process; id: the queue id (inode), when this process queued it; maildrop: the file qm send takes in later. */
export interface Queued {
  readonly qp: number;
  readonly id?: number;
  readonly maildrop?: string;
}
export interface SubmitOptions {
  readonly who?: Invoker;
  readonly env?: NodeJS.ProcessEnv;
  /** a process that queues one message and exits: synchronous calls, no thread pool (EnqueueOptions.blocking) */
  readonly blocking?: boolean;
}

/**
 * Puts one message into the queue: the only way any part of qm does it
 * (HACKING.md). $QMAILQUEUE names another queue program; root and the
 * queue's owner write the queue in-process; anyone else hands it to qm
 * queued when one answers on the socket, and writes maildrop/ otherwise.
 * ok means durable: written, fsynced and committed. A failure says why
 * (qmail-queue's text for its class, then what went wrong, without paths).
 */
export async function submit(home: string, message: Message, env: Envelope, opts: SubmitOptions = {}): Promise<Result<Queued>> {
  const qq = (opts.env ?? process.env).QMAILQUEUE;
  // $QMAILQUEUE: loaded only here, so an injector on a normal host never loads child_process or node:os
  if (qq) return (await import("./submit-program.ts")).runQueueProgram(qq, message, env);
  if (existsSync(join(home, "control", "qmqpservers"))) {
    // a QMQP null client (mini-qmail): loaded only here, so injectors on a normal host never load node:net
    const { qmqpSubmit } = await import("../qmqp/client.ts");
    const code = await qmqpSubmit(home, message, env);
    return code === 0 ? ok({ qp: process.pid }) : qqFail(code);
  }
  if (writesQueue(home)) {
    const r = await enqueue(home, message, env, { who: opts.who ?? { kind: "uid", uid: process.getuid?.() ?? 0 }, blocking: opts.blocking });
    return r.kind === "ok" ? ok({ qp: process.pid, id: r.value.id }) : r; // the failure with its reason (issue 13: it used to be dropped)
  }
  const handed = await queued(home, message, env, opts.who);
  if (handed) return handed;
  return maildrop(home, message, env, opts.blocking);
}

/**
 * A listener running as another user than the queue's owner (smtpd as
 * qmaild): the message to qm queued, which writes it as the owner
 * (qm-queued(8)). null when there is no qm queued to take it, or this user
 * may not reach it: then maildrop/.
 */
async function queued(home: string, message: Message, env: Envelope, who: Invoker | undefined): Promise<Result<Queued> | null> {
  const path = queuedSocket(home);
  if (!existsSync(path)) return null; // a stat, so that inject as a user on a host without qm queued never loads node:net
  const { handToQueued } = await import("./queued-client.ts");
  const uid = process.getuid?.() ?? 0;
  const r = await handToQueued(path, message, env, { uid, who: who?.kind ?? "uid" });
  if (r === null) return null;
  return r.kind === "ok" ? ok({ qp: process.pid, id: r.value.id }) : r;
}

/** True when this process may write the queue itself (root, or the queue's owner). */
export function writesQueue(home: string): boolean {
  const uid = process.getuid?.() ?? 0;
  return uid === 0 || uid === queueOwner(home);
}

function queueOwner(home: string): number {
  try {
    return statSync(join(home, "queue")).uid;
  } catch {
    return -2;
  }
}

/**
 * A local user who cannot write the queue: the message into maildrop/
 * (maildrop.ts; ok only once it is durable), then the trigger.
 */
async function maildrop(home: string, message: Message, env: Envelope, blocking = false): Promise<Result<Queued>> {
  const r = await writeMaildrop(home, message, env, { blocking });
  if (r.kind !== "ok") return r;
  await pullTrigger(home);
  return ok({ qp: process.pid, maildrop: r.value.name });
}
