/**
 * qm inject (qmail-inject, docs/qmail.md §7): read a message, complete and rewrite
 * its header, pick the recipients, and queue it through submit(). Only the
 * header is held in memory (MAX_HEADER); the body streams from the input to
 * the queue. `inject()` is also the in-process entry for the sendmail wrapper:
 * its options and environment are ordinary strings, as process.argv and
 * process.env give them; they are UTF-8 encoded into byte strings here.
 */
import type { Writable } from "node:stream";
import { readControlLine } from "../io/base/control.ts";
import { readListFile } from "../io/base/list-file.ts";
import { writeAll } from "../io/inject/out-stream.ts";
import { submit } from "../io/queue/submit.ts";
import { readFd } from "../io/inject/fd-reader.ts";
import { readHead } from "../io/inject/read-head.ts";
import { toBytes, utf8ByteString as utf8 } from "../lib/base/bytes.ts";
import { parseFields } from "../lib/base/header.ts";
import type { InjectOptions, SendmailDsn } from "../lib/inject/args.ts";
import type { MessageDsn } from "../lib/queue/dsn.ts";
import { INJECT_CONTROLS, readInjectEnv, type Env, type InjectControl, type InjectEnv } from "../lib/inject/env.ts";
import { prepareHeader, type InjectConfig, type Prepared } from "../lib/inject/header.ts";
import { ok, perm, type Result } from "../lib/base/result.ts";

export type { InjectOptions, RecipientMode } from "../lib/inject/args.ts";
export { parseInjectArgs, USAGE } from "../lib/inject/args.ts";

export interface InjectContext {
  readonly home: string;
  /** the environment qmail-inject reads (QMAILUSER, QMAILINJECT, ...); also passed to submit() for QMAILQUEUE */
  readonly env: Env;
  readonly input: AsyncIterable<Uint8Array>;
  /** where -n prints the message; required with -n */
  readonly out?: Writable;
  readonly now?: () => number;
  readonly pid?: number;
  readonly uid?: number;
  /** this process queues one message and exits: synchronous I/O (SubmitOptions.blocking) */
  readonly blocking?: boolean;
}

export type Injected = { readonly queued: true; readonly qp: number; readonly sender: string; readonly recipients: readonly string[] } | { readonly queued: false };

/** sendmail -N/-R/-V as the queue keeps them: NOTIFY for every recipient. */
function dsnFor(d: SendmailDsn | undefined, recipients: readonly string[]): { dsn?: MessageDsn } {
  if (!d) return {};
  const rcpts = new Map(d.notify === undefined ? [] : recipients.map((r) => [r, { notify: d.notify }] as const));
  return { dsn: { ...(d.ret ? { ret: d.ret } : {}), ...(d.envid !== undefined ? { envid: utf8(d.envid) } : {}), rcpts } };
}

/**
 * qmail-inject in-process. ok only once the message is queued (or printed
 * with -n); perm for bad addresses, no recipients or a header over the cap;
 * temp for trouble reading controls or writing the queue.
 */
export async function inject(argOpts: InjectOptions, ctx: InjectContext): Promise<Result<Injected>> {
  const opts = { ...argOpts, sender: argOpts.sender === null ? null : utf8(argOpts.sender), recipients: argOpts.recipients.map(utf8) };
  // argv and environment strings back to byte strings (bytes.ts); only the variables inject reads
  const env = readInjectEnv(new Proxy(ctx.env, { get: (e, k) => (typeof k === "string" && e[k] !== undefined ? utf8(e[k]) : undefined) }));
  const cfg = await configure(ctx, env);
  if (cfg.kind !== "ok") return cfg;
  const head = await readHead(ctx.input);
  if (head.kind !== "ok") return head;
  const prepared = prepareHeader(parseFields(head.value.head), opts, cfg.value);
  if (prepared.kind !== "ok") return prepared;
  const message = assemble(prepared.value, head.value.body);
  if (opts.print) {
    if (!ctx.out) return perm("Nowhere to print the message", "5.3.0");
    const printed = await writeAll(ctx.out, (async function* () {
      yield toBytes(`Return-Path: <${prepared.value.sender}>\n`);
      yield* message;
    })());
    return printed.kind === "ok" ? ok({ queued: false }) : printed;
  }
  const { sender, recipients } = prepared.value;
  if (recipients.length === 0) return perm("No recipients", "5.1.3");
  const uid = ctx.uid ?? (typeof process.getuid === "function" ? process.getuid() : 0);
  const done = await submit(ctx.home, message, { sender, recipients, ...dsnFor(opts.dsn, recipients) }, { who: { kind: "uid", uid }, env: ctx.env as NodeJS.ProcessEnv, blocking: ctx.blocking });
  if (done.kind !== "ok") return done;
  return ok({ queued: true, qp: done.value.qp, sender, recipients });
}

/** control/me, the four inject controls (environment first), QMAILMFTFILE. */
async function configure(ctx: InjectContext, env: InjectEnv): Promise<Result<InjectConfig>> {
  const me = await readControlLine(ctx.home, "me", null);
  if (me.kind !== "ok") return me;
  const values = new Map<InjectControl, string>();
  for (const c of INJECT_CONTROLS) {
    const override = env.overrides.get(c);
    const v = override !== undefined ? ok(override) : await readControlLine(ctx.home, c, me.value ?? c);
    if (v.kind !== "ok") return v;
    values.set(c, v.value ?? c);
  }
  let mft: string[] | null = null;
  if (env.mftFile !== null) {
    const r = await readListFile(env.mftFile);
    if (r.kind !== "ok") return r;
    mft = r.value ?? [];
  }
  const get = (c: InjectControl): string => values.get(c) ?? c;
  return ok({
    hosts: { defaulthost: get("defaulthost"), defaultdomain: get("defaultdomain"), plusdomain: get("plusdomain") },
    idhost: get("idhost"),
    env,
    mft,
    now: (ctx.now ?? Date.now)(),
    pid: ctx.pid ?? process.pid,
  });
}


async function* assemble(p: Prepared, body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  yield toBytes(`${p.header}\n`);
  yield* body;
}

/** This process's stdin as chunks, read with plain blocking read(2): inject starts faster without process.stdin's streams. */
export function stdinChunks(): AsyncIterable<Uint8Array> {
  return readFd(0, undefined, true);
}
