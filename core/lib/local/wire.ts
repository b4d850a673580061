/**
 * The local delivery interfaces, each defined once for both its ends:
 * qmail-local's eight arguments (`qm local -- user home local dash ext
 * domain sender defaultdelivery`, also the fields of a worker request), its
 * exit codes and what qmail-lspawn makes of them, and the pipe between
 * `qm lspawn` and a reused `qm local-worker`:
 *   request: id\0 <the eight arguments>\0 quota\0 length\0 <length message bytes>
 * (quota: a virtual user's Maildir++ quota line, control/virtualusers, or empty)
 *   reply:   id\0 exit code\0 text\0
 * Fields are byte strings (bytes.ts) holding UTF-8 text.
 */
import { createFrameReader, encodeFields } from "../base/frame.ts";
import type { Outcome } from "../send/spawn-wire.ts";

export const LOCAL_FIELDS = ["user", "home", "local", "dash", "ext", "domain", "sender", "defaultDelivery"] as const;
export type LocalRequest = { readonly [K in (typeof LOCAL_FIELDS)[number]]: string };

/** The arguments in qmail-local's order (argv of `qm local`, fields of a worker request). */
export function localArgs(req: LocalRequest): string[] {
  return LOCAL_FIELDS.map((f) => req[f]);
}

/** qmail-local's exit codes: 0 delivered, 100 permanent, 111 temporary. */
export const LOCAL_EXIT = { ok: 0, perm: 100, temp: 111 } as const;
export type LocalExit = (typeof LOCAL_EXIT)[keyof typeof LOCAL_EXIT];

/** A message up to this size goes to a worker in the request; a larger one to a one-shot `qm local` on its file. */
export const WORKER_MAX_BODY = 4 * 1024 * 1024;
/** A worker keeps at most this much of a delivery's output text. */
export const WORKER_MAX_TEXT = 65536;

// qmail-lspawn's report(): 0 K; 111, 71, 74, 75 Z; any other code D; a crash (null) Z.
const TEMP_CODES = new Set([111, 71, 74, 75]);

/** The spawn report for a `qm local` (or worker) exit; `null` is a crash or a worker that went away. */
export function localOutcome(code: number | null, text: string): Outcome {
  if (code === null) return { letter: "Z", text: `${text}qm local crashed. (#4.3.0)\n` };
  if (code === 0) return { letter: "K", text };
  return { letter: TEMP_CODES.has(code) ? "Z" : "D", text };
}

export interface WorkerRequest {
  readonly id: string;
  readonly args: readonly string[];
  readonly quota: string;
  readonly body: Uint8Array;
}
export interface WorkerReply {
  readonly id: string;
  readonly code: number | null;
  readonly text: string;
}

/** A request's fields; the `bodyLength` message bytes are written right after them. */
export function encodeWorkerRequest(id: string, args: readonly string[], bodyLength: number, quota = ""): Uint8Array {
  return encodeFields([id, ...args, quota, String(bodyLength)]);
}

/** The worker's reader: a bad frame (overlong field, body over WORKER_MAX_BODY) is an error, after which nothing is read. */
export function workerRequestReader(): (chunk: Uint8Array) => (WorkerRequest | { readonly error: string })[] {
  const frames = createFrameReader(LOCAL_FIELDS.length + 3, { bodyField: LOCAL_FIELDS.length + 2, maxBody: WORKER_MAX_BODY });
  const n = LOCAL_FIELDS.length;
  return (chunk) =>
    frames.push(chunk).map((ev) => (ev.kind === "error" ? { error: ev.reason } : { id: ev.frame.fields[0]!, args: ev.frame.fields.slice(1, 1 + n), quota: ev.frame.fields[1 + n]!, body: ev.frame.body! }));
}

/** The text is cut at WORKER_MAX_TEXT (lspawn reports much less of it). */
export function encodeWorkerReply(id: string, code: number, text: string): Uint8Array {
  return encodeFields([id, String(code), text.slice(0, WORKER_MAX_TEXT)]);
}

/** lspawn's reader of a worker's replies; a code that is not a number reads as a crash (null). */
export function workerReplyReader(): (chunk: Uint8Array) => WorkerReply[] {
  const frames = createFrameReader(3, { maxField: 4 * WORKER_MAX_TEXT }); // a char above 0xff is up to 4 bytes
  return (chunk) => {
    const out: WorkerReply[] = [];
    for (const ev of frames.push(chunk)) {
      if (ev.kind !== "frame") continue;
      const [id = "", code = "", text = ""] = ev.frame.fields;
      out.push({ id, code: /^\d+$/.test(code) ? Number(code) : null, text });
    }
    return out;
  };
}
