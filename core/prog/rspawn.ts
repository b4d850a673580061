import { join } from "node:path";
import { MESSAGE, synthesizeReport, type Record } from "../lib/remote/report.ts";
import { runSpawnLoop } from "../lib/send/spawn-loop.ts";
import { GROUP_MAX, MAX_REPORT, type Command, type Outcome } from "../lib/send/spawn-wire.ts";
import { deliverRemote, loadRemoteConfig, REMOTE_FILES, type RemoteConfig } from "../io/remote/delivery.ts";
import { changedControls, stampControls } from "../io/base/control-stamp.ts";
import { reloadLine } from "../lib/base/reload.ts";
import { openMessageFile } from "../io/remote/message.ts";
import { ConnPool } from "../io/remote/smtp-pool.ts";
import { ownedTcpto, type Tcpto } from "../io/remote/tcpto.ts";
import { loadDkimSigner, type DkimSigner } from "../io/dkim/signer.ts";
import { describe, type Result } from "../lib/base/result.ts";
import { readControlMap } from "../io/base/control.ts";
import { lmtpRouteOf } from "../lib/send/rewrite.ts";
import { parseLmtpRoute } from "../lib/remote/lmtp.ts";
import { deliverLmtp } from "../io/remote/lmtp.ts";
import { readDsnOfMess } from "../io/queue/dsn.ts";
import type { MessageDsn } from "../lib/queue/dsn.ts";
export { exitWhenOrphaned } from "../io/base/parent.ts";

// qm rspawn (qmail-rspawn, docs/qmail.md §5.1): commands from qm send on stdin,
// K/Z/D reports on stdout (the spawn loop, core/lib/send/spawn-loop.ts).
// Every delivery runs in this one event loop; the
// report is built from qm remote's records exactly as qmail-rspawn builds
// it. This process is the only writer of queue/lock/tcpto.
//
// Commands that arrive together for the same message, sender and domain
// (qm send starts a message's recipients back to back) share one SMTP
// transaction, one RCPT each, as qmail-remote does for a recipient list:
// each slot gets its own recipient record with the message record. A
// connection whose transaction went through waits a moment for the next
// message to the same address (core/io/remote/smtp-pool.ts).
//
// A recipient whose control/virtualdomains entry is an LMTP route
// (`lmtp:unix:/path`, `lmtp:host:port`; read again for each group, so a
// route is never missed for a stale copy) goes to that server instead: the
// same group shares one LMTP transaction, and each slot gets the server's
// own reply for its recipient (core/lib/remote/lmtp.ts), so qm send
// checkpoints and bounces each recipient exactly.

/** Recipients per shared transaction (qm send counts them as one unit of concurrencyremote); RFC 5321 servers take at least 100. */
export const BATCH_MAX = GROUP_MAX;

/** Every control file rspawn reads (loadRemoteConfig, loadDkimSigner; virtualdomains for each group): what its reload line may name. */
export const RSPAWN_FILES = [...REMOTE_FILES, "dkimsign", "arcseal", "virtualdomains"] as const;

interface Loaded {
  readonly cfg: RemoteConfig | null;
  readonly dkim: Result<DkimSigner | null>;
  /** why deliveries are deferred (a control file that cannot be used), or null */
  readonly trouble: string | null;
}

async function load(home: string): Promise<Loaded> {
  const cfg = await loadRemoteConfig(home);
  const dkim = await loadDkimSigner(home);
  const trouble = cfg.kind !== "ok" ? cfg.reason : dkim.kind !== "ok" ? dkim.reason : null;
  return { cfg: cfg.kind === "ok" ? cfg.value : null, dkim, trouble };
}

/**
 * `note` gets rspawn's own lines (its reload line; on stderr, which qm send
 * passes on). A reload (the spawn wire's reload command, sent on send's
 * SIGHUP) reads every control file and DKIM key again for the deliveries
 * that start after it, and closes the idle connections kept for reuse.
 */
export async function rspawn(home: string, input: AsyncIterable<Uint8Array>, write: (b: Uint8Array) => void, orphaned?: () => boolean, note: (line: string) => void = (l) => void process.stderr.write(`${l}\n`)): Promise<void> {
  let loaded = load(home);
  let stamps = stampControls(home, RSPAWN_FILES);
  const tcpto = ownedTcpto(home);
  const pool = new ConnPool();
  const reload = (): void => {
    const next = load(home);
    loaded = next;
    pool.closeAll();
    void next.then((l) => {
      const now = stampControls(home, RSPAWN_FILES);
      note(reloadLine("rspawn", changedControls(stamps, now)));
      stamps = now;
      if (l.trouble) note(`rspawn: warning: ${l.trouble}; remote deliveries are deferred until it is fixed`);
    });
  };
  await runSpawnLoop(input, write, {
    refuse,
    group,
    reload,
    deliver: (cs) => {
      const l = loaded; // the controls in force when the commands arrived
      return l.then(({ cfg, dkim }) => deliverGroup(home, cfg, dkim, tcpto, pool, cs));
    },
    internalError: { letter: "Z", text: "qm rspawn: internal error in remote delivery. (#4.3.0)\n" },
    clip: (text) => text.slice(0, MAX_REPORT),
    orphaned,
  });
  pool.closeAll();
  await tcpto.flush();
}

function refuse(c: Command): Outcome | null {
  const at = c.recipient.lastIndexOf("@");
  if (at < 0 || at === c.recipient.length - 1) return { letter: "D", text: "Sorry, address must include host name. (#5.1.3)\n" };
  return null;
}

/** Commands for the same message, sender and domain share a transaction, at most BATCH_MAX recipients each. */
function group(cs: readonly Command[]): Command[][] {
  const open = new Map<string, Command[]>();
  const out: Command[][] = [];
  for (const c of cs) {
    const key = `${c.path}\0${c.sender}\0${c.recipient.slice(c.recipient.lastIndexOf("@") + 1).toLowerCase()}`;
    let g = open.get(key);
    if (!g) open.set(key, (g = []));
    g.push(c);
    if (g.length >= BATCH_MAX) {
      out.push(g);
      open.delete(key);
    }
  }
  return [...out, ...open.values()];
}

/** One transaction for jobs of the same message, sender and domain; a report per job, in order. */
async function deliverGroup(home: string, cfg: RemoteConfig | null, dkim: Result<DkimSigner | null>, tcpto: Tcpto, pool: ConnPool, jobs: readonly Command[]): Promise<Outcome[]> {
  const { path, sender } = jobs[0]!;
  const all = (r: Outcome): Outcome[] => jobs.map(() => r);
  if (!cfg) return all(synthesizeReport([MESSAGE.control]));
  const messDir = join(home, "queue", "mess") + "/";
  if (!path.startsWith(messDir) || path.includes("/../")) return all({ letter: "Z", text: "Message path is not in the queue. (#4.3.0)\n" });
  const vd = await readControlMap(home, "virtualdomains");
  if (vd.kind !== "ok") return all({ letter: "Z", text: "Unable to read control/virtualdomains. (#4.3.0)\n" });
  const routes = jobs.map((j) => lmtpRouteOf(j.recipient, vd.value));
  if (routes.some((r) => r !== routes[0])) {
    // one domain, several routes (a user@domain line): one delivery per route, reports back in order
    const parts = new Map<string | null, number[]>();
    routes.forEach((r, i) => parts.set(r, [...(parts.get(r) ?? []), i]));
    const out: Outcome[] = [];
    await Promise.all([...parts.values()].map(async (idx) => {
      const got = await deliverGroup(home, cfg, dkim, tcpto, pool, idx.map((i) => jobs[i]!));
      idx.forEach((i, k) => (out[i] = got[k]!));
    }));
    return out;
  }
  if (routes[0] != null) return lmtpGroup(cfg, routes[0], jobs);
  if (dkim.kind !== "ok") return all({ letter: "Z", text: `${describe(dkim)}\n` });
  const opened = await openMessageFile(path);
  if (opened.kind !== "ok") return all({ letter: "Z", text: "Unable to open message file. (#4.3.0)\n" });
  const msg = dkim.value ? await dkim.value.sign(opened.value) : opened; // DKIM: signatures in front, or Z
  if (msg.kind !== "ok") {
    await opened.value.close();
    return all({ letter: "Z", text: `${describe(msg)}\n` });
  }
  const rcpts = jobs.map((j) => j.recipient);
  let records: Record[];
  try {
    records = await deliverRemote(cfg, tcpto, rcpts[0]!.slice(rcpts[0]!.lastIndexOf("@") + 1), {
      helo: cfg.helo,
      sender,
      recipients: rcpts,
      ...dsnOf(path),
      message: msg.value.chunks,
      size: msg.value.size,
    }, pool);
  } finally {
    await msg.value.close();
  }
  return jobs.map((_, i) => synthesizeReport(recordsFor(records, i, jobs.length)));
}

/** The message's RFC 3461 parameters (queue/dsn/, readable as mess/ is), for a server that offers DSN. */
function dsnOf(path: string): { dsn?: MessageDsn } {
  const st = readDsnOfMess(path);
  return st ? { dsn: st.dsn } : {};
}

/** The group's recipients in one LMTP transaction; no DKIM signature (the mail stays on this host). */
async function lmtpGroup(cfg: RemoteConfig, route: string, jobs: readonly Command[]): Promise<Outcome[]> {
  const target = parseLmtpRoute(route);
  const safe = route.replace(/[^\x21-\x7e]/g, "?");
  if (!target) return jobs.map(() => ({ letter: "Z", text: `control/virtualdomains has a bad LMTP route: ${safe}. (#4.3.5)\n` }));
  const opened = await openMessageFile(jobs[0]!.path);
  if (opened.kind !== "ok") return jobs.map(() => ({ letter: "Z", text: "Unable to open message file. (#4.3.0)\n" }));
  try {
    return await deliverLmtp(target, {
      lhlo: cfg.helo,
      sender: jobs[0]!.sender,
      recipients: jobs.map((j) => j.recipient),
      message: opened.value.chunks,
    }, { connectMs: cfg.connectMs, ioMs: cfg.remoteMs });
  } finally {
    await opened.value.close();
  }
}

/**
 * qm remote's records for recipient i of n: its own r/h/s record (when the
 * conversation got that far) and the message record. A transaction that
 * ended before the recipients has only the message record, shared by all.
 */
export function recordsFor(records: readonly Record[], i: number, n: number): Record[] {
  const last = records.at(-1);
  const message = last && "KZD".includes(last.letter) ? last : null;
  const perRcpt = message ? records.slice(0, -1) : records;
  const own = perRcpt.length === n || (i < perRcpt.length && perRcpt.every((r) => "rhs".includes(r.letter))) ? perRcpt[i] : undefined;
  return [...(own ? [own] : []), ...(message ? [message] : [])];
}
