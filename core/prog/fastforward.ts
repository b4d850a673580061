import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { decodeInstructions, lookupKeys, parseIncludeList, type AliasDefaults } from "../lib/local/aliases.ts";
import { fromBytes, toBytes } from "../lib/base/bytes.ts";
import { cdbFind } from "../lib/base/cdb.ts";
import { programOutcome, ufLine } from "../lib/local/dot-qmail.ts";
import { describe, ok, perm, temp, type Result } from "../lib/base/result.ts";
import { errText } from "../io/base/errno.ts";
import { deliverMbox } from "../io/local/mbox.ts";
import { fdSource, type MessageSource } from "../io/local/message-source.ts";
import { loadAliases } from "../io/local/aliases-file.ts";
import { runProgram } from "../io/local/program.ts";
import { forwardSender } from "../io/base/srs.ts";
import { submit } from "../io/queue/submit.ts";

// qm fastforward (fastforward, docs/qmail.md §11.2): delivery through the aliases
// cdb from the alias user's .qmail-default. Each distinct instruction runs
// once, so include loops and alias cycles end.

export interface FastforwardOptions {
  readonly cdb: Uint8Array;
  readonly qmhome: string;
  readonly defaults: AliasDefaults;
  readonly env: NodeJS.ProcessEnv;
  /** -p: unknown address → 0 (next .qmail line runs), handled → 99. */
  readonly pass: boolean;
  /** -d: recipient is $DEFAULT@$HOST instead of $RECIPIENT. */
  readonly useDefault: boolean;
  readonly out: (text: string) => void;
}
export type FastforwardExit = 0 | 99 | 100 | 111;
const MAX_STEPS = 10_000;

export async function fastforward(msg: MessageSource, o: FastforwardOptions): Promise<FastforwardExit> {
  const r = await expand(msg, o);
  if (r.kind === "ok") return r.value;
  o.out(`${describe(r)}\n`);
  return r.kind === "perm" ? 100 : 111;
}

const bs = (s: string): string => Buffer.from(s, "utf8").toString("latin1"); // env text → byte string
const find = (db: Uint8Array, key: string): string | null => {
  const v = cdbFind(db, toBytes(key));
  return v ? fromBytes(v) : null;
};

async function expand(msg: MessageSource, o: FastforwardOptions): Promise<Result<FastforwardExit>> {
  const e = o.env;
  const rcpt = o.useDefault ? `${e.DEFAULT ?? e.EXT ?? ""}@${e.HOST ?? ""}` : e.RECIPIENT;
  if (!rcpt) return perm("RECIPIENT not set", "5.3.5");
  const recipient = bs(rcpt);
  const first = lookupKeys(":", recipient).map((k) => find(o.cdb, k)).find((v) => v !== null);
  if (first == null) return o.pass ? ok(0) : perm("Sorry, no mailbox here by that name", "5.1.1");
  let sender = bs(e.SENDER ?? "");
  if (sender !== "" && sender !== "#@[]") {
    const owner = lookupKeys("?", recipient).map((k) => find(o.cdb, k)).find((v) => v !== null);
    if (owner != null) sender = owner;
  }
  const stack = decodeInstructions(first).reverse();
  const seen = new Set<string>();
  const forwards: string[] = [];
  for (let n = 0; stack.length > 0 && n < MAX_STEPS; n++) {
    const ins = stack.pop()!;
    if (seen.has(ins)) continue;
    seen.add(ins);
    const r = await step(ins, msg, o, stack, forwards);
    if (r.kind !== "ok") return r;
  }
  if (stack.length > 0) return perm("Alias expansion is too large", "5.4.6");
  if (forwards.length > 0) {
    const dt = Buffer.from(e.DTLINE ?? "", "utf8");
    async function* body(): AsyncIterable<Uint8Array> {
      yield dt;
      yield* msg.chunks();
    }
    const srs = await forwardSender(o.qmhome, sender); // SRS (control/srs) so the forward passes SPF
    if (srs.kind !== "ok") return temp(`Unable to forward message: ${describe(srs)}`, "4.3.0");
    const q = await submit(o.qmhome, body(), { sender: srs.value, recipients: forwards }, { who: { kind: "alias" }, env: e });
    if (q.kind !== "ok") return q.kind === "perm" ? perm(`Unable to forward message: ${q.reason}`, q.status) : temp(`Unable to forward message: ${q.reason}`, q.status);
    o.out(`fastforward: qp ${q.value.qp}\n`);
  }
  return ok(o.pass ? 99 : 0);
}

async function step(ins: string, msg: MessageSource, o: FastforwardOptions, stack: string[], forwards: string[]): Promise<Result<void>> {
  const head = ins[0];
  const rest = ins.slice(1);
  if (head === "&") {
    const lower = rest.toLowerCase();
    const at = lower.lastIndexOf("@");
    // the exact key, then the bare `name@` key for an address completed to our own default host
    let list = find(o.cdb, `:${lower}`);
    if (list === null && at >= 0 && lower.slice(at + 1) === o.defaults.defaultHost.toLowerCase()) list = find(o.cdb, `:${lower.slice(0, at + 1)}`);
    if (list === null || find(o.cdb, `?${lower}`) !== null) forwards.push(rest);
    else stack.push(...decodeInstructions(list).reverse());
    return ok(undefined);
  }
  if (head === "|") {
    const run = await runProgram(Buffer.from(rest, "latin1").toString("utf8"), o.env.HOME ?? "/", o.env, msg, o.out);
    const oc = programOutcome(run.code);
    if (oc === "ok" || oc === "stop") return ok(undefined);
    return oc === "perm" ? perm(`Alias program exited ${run.code}`, "5.2.0") : temp(`Alias program failed (${run.code ?? run.signal})`, "4.2.0");
  }
  if (head === ">") {
    const e = o.env;
    const lines = ufLine(e.SENDER ?? "", new Date()) + (e.RPLINE ?? "") + (e.DTLINE ?? "");
    const r = await deliverMbox(rest, Buffer.from(lines, "utf8"), msg);
    return r.kind === "ok" ? ok(undefined) : r;
  }
  if (head === "." || head === "/") {
    try {
      const text = fromBytes(await readFile(resolve(o.env.HOME ?? "/", ins)));
      stack.push(...parseIncludeList(text, o.defaults).reverse());
      return ok(undefined);
    } catch (err) {
      return temp(`Unable to read include file ${ins}: ${errText(err)}`, "4.3.0");
    }
  }
  return temp(`Unknown alias instruction ${JSON.stringify(ins.slice(0, 40))}`, "4.3.0");
}

/** `qm fastforward [-p] [-d] [cdb]`: message on fd 0; returns the exit code. */
export async function fastforwardCli(qmhome: string, cdbArg: string | undefined, flags: { pass: boolean; useDefault: boolean }, out: (t: string) => void): Promise<number> {
  const aliases = await loadAliases(qmhome, cdbArg);
  const msg = aliases.kind === "ok" ? await fdSource(0) : aliases;
  if (aliases.kind !== "ok" || msg.kind !== "ok") {
    out(`${describe(aliases.kind !== "ok" ? aliases : (msg as Exclude<typeof msg, { kind: "ok" }>))}\n`);
    return 111;
  }
  return fastforward(msg.value, { ...aliases.value, qmhome, env: process.env, ...flags, out });
}
