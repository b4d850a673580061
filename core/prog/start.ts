/**
 * `qm start`: runs the parts of a running mail system together (the queue
 * manager `qm send` and the SMTP listener `qm smtpd --listen`), as qmail-start
 * plus svscan do: a part that dies is started again after a pause that grows
 * while it keeps dying; SIGHUP goes to every part (each reads its control
 * files again), SIGALRM to the queue manager, SIGTERM to every part, and start
 * exits once they have all stopped. Every line the parts
 * write comes out on start's stdout: the queue manager's log lines unchanged
 * (qm-log(5) shapes, for qmail's log tools), other lines prefixed with the
 * part's name. As root each part drops to its own user: send to the queue's
 * owner (its spawners as qmail's do), smtpd to --user after binding.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { meWarning } from "../lib/base/me.ts";
import { ok, perm, type Result } from "../lib/base/result.ts";
import { listenerArgs, parseListeners, type ListenerSpec } from "../lib/smtpd/listen.ts";
import { severity, stamp, STAMP_MODES, type StampMode } from "../lib/base/stamp.ts";
import { readControlLine, readControlList } from "../io/base/control.ts";
import { claimPidFile } from "../io/base/pidfile.ts";
import { selfCommand } from "../io/base/self.ts";
import { openSyslog } from "../io/base/syslog.ts";
import { getpwnam } from "../io/base/passwd.ts";
import { queueDir } from "../lib/queue/layout.ts";

export interface Part {
  /** in start's own lines and pids(); its first word is the prefix of its other lines ("smtpd: ") */
  readonly name: string;
  /** qm's argv after the executable: subcommand and flags (fixed words, no addresses) */
  readonly argv: readonly string[];
  /** its stdout is a log to pass on unchanged (qm send) */
  readonly rawStdout?: boolean;
  /** its children, whose lines it passes on on its stderr: a line that starts with one's name is not prefixed again */
  readonly children?: readonly string[];
}

export interface Backoff {
  readonly firstMs: number;
  readonly maxMs: number;
  /** a part that ran this long before dying starts again after firstMs */
  readonly resetAfterMs: number;
}
const BACKOFF: Backoff = { firstMs: 1000, maxMs: 60_000, resetAfterMs: 30_000 };
/** How long the parts get to stop after SIGTERM before they are killed (send lets deliveries finish for 60 s). */
const STOP_GRACE_MS = 75_000;
const MAX_LINE = 16 * 1024;

export interface StartOptions {
  readonly parts: readonly Part[];
  /** one call per line, newline included */
  readonly out: (line: string) => void;
  readonly backoff?: Backoff;
  readonly spawnPart?: (p: Part) => ChildProcess;
  readonly now?: () => number;
  /** how long parts get after SIGTERM before SIGKILL; default STOP_GRACE_MS */
  readonly graceMs?: number;
}

export interface StartHandle {
  /** settles once every part has stopped after term() */
  readonly done: Promise<Result<void>>;
  term(): void;
  /** SIGHUP: passed to every part running; each reads its control files again and logs a line (qm-start(8)) */
  hup(): void;
  /** SIGALRM: the queue manager retries everything now */
  alrm(): void;
  /** pid of each running part, by name (for tests and status) */
  pids(): ReadonlyMap<string, number>;
}

/** The pause before a part is started again. */
export function nextDelay(prevMs: number, ranMs: number, b: Backoff): number {
  if (prevMs === 0 || ranMs >= b.resetAfterMs) return b.firstMs;
  return Math.min(prevMs * 2, b.maxMs);
}

/**
 * The smtpd listeners: the --listen flags, else control/listen, else
 * 0.0.0.0:25; each a line `IP:PORT [smtp|submission|smtps] [max=N]
 * [max-per-ip=N] [rules=FILE]` (lib/smtpd/listen.ts). A bad line is a
 * permanent error naming it.
 */
export async function listeners(home: string, flags: readonly string[]): Promise<Result<readonly ListenerSpec[]>> {
  if (flags.length > 0) return parseListeners(flags, (i) => `--listen ${JSON.stringify(flags[i]!.slice(0, 100))}`);
  const file = await readControlList(home, "listen");
  if (file.kind !== "ok") return file;
  const lines = file.value && file.value.length > 0 ? file.value : ["0.0.0.0:25"];
  return parseListeners(lines, (i) => `control/listen line ${JSON.stringify(lines[i]!.slice(0, 100))}`);
}

/**
 * The usual parts: send, qm queued when the listeners do not own the queue
 * (`queued`), and one smtpd for each listener, with its own mode and limits.
 * A lone listener's part is "smtpd"; with several, each is "smtpd ADDRESS".
 */
export function standardParts(listen: readonly ListenerSpec[], smtpdUser: string, queued = false): Part[] {
  const parts: Part[] = [{ name: "send", argv: ["send"], rawStdout: true, children: ["lspawn", "rspawn"] }];
  if (queued && listen.length > 0) parts.push({ name: "queued", argv: ["queued"] });
  for (const l of listen) parts.push({ name: listen.length === 1 ? "smtpd" : `smtpd ${l.address}`, argv: ["smtpd", ...listenerArgs(l), "--user", smtpdUser] });
  return parts;
}

interface Running {
  readonly part: Part;
  child: ChildProcess | null;
  startedAt: number;
  delay: number;
  timer: NodeJS.Timeout | null;
}

export function start(opts: StartOptions): StartHandle {
  const b = opts.backoff ?? BACKOFF;
  const now = opts.now ?? Date.now;
  const launch = opts.spawnPart ?? spawnPart;
  const log = (s: string) => opts.out(`start: ${s}\n`);
  let stopping = false;
  let settle!: (r: Result<void>) => void;
  const done = new Promise<Result<void>>((r) => (settle = r));
  const all: Running[] = opts.parts.map((part) => ({ part, child: null, startedAt: 0, delay: 0, timer: null }));
  let killTimer: NodeJS.Timeout | null = null;

  const finishIfIdle = () => {
    if (!stopping || all.some((r) => r.child !== null)) return;
    if (killTimer) clearTimeout(killTimer);
    log("all parts stopped");
    settle(ok(undefined));
  };

  const run = (r: Running) => {
    r.timer = null;
    if (stopping) return finishIfIdle();
    const child = launch(r.part);
    r.child = child;
    r.startedAt = now();
    log(`${r.part.name} started, pid ${child.pid ?? "?"}`);
    relay(child, r.part, opts.out);
    const gone = (how: string) => {
      if (r.child !== child) return; // reported already ("error" and "exit" may both come)
      r.child = null;
      if (stopping) {
        log(`${r.part.name} ${how}`);
        return finishIfIdle();
      }
      r.delay = nextDelay(r.delay, now() - r.startedAt, b);
      log(`${r.part.name} ${how}; starting it again in ${r.delay / 1000} s`);
      r.timer = setTimeout(() => run(r), r.delay);
    };
    child.on("error", (err) => gone(`could not be started: ${err.message}`));
    child.on("exit", (code, signal) => gone(signal ? `killed by ${signal}` : `exited with code ${code}`));
  };

  for (const r of all) run(r);

  /** `name` is a part's name or its first word ("smtpd": every listener) */
  const signalPart = (name: string, sig: NodeJS.Signals) => {
    for (const r of all) if ((r.part.name === name || r.part.name.startsWith(`${name} `)) && r.child) r.child.kill(sig);
  };
  return {
    done,
    term() {
      if (stopping) return;
      stopping = true;
      log("stopping");
      for (const r of all) {
        if (r.timer) clearTimeout(r.timer);
        r.timer = null;
        r.child?.kill("SIGTERM");
      }
      killTimer = setTimeout(() => {
        for (const r of all) r.child?.kill("SIGKILL");
      }, opts.graceMs ?? STOP_GRACE_MS);
      finishIfIdle();
    },
    hup() {
      const running = all.filter((r) => r.child);
      log(`SIGHUP: passed to ${running.map((r) => r.part.name).join(", ") || "no part (none is running)"}`);
      for (const r of running) r.child!.kill("SIGHUP");
    },
    alrm() {
      signalPart("send", "SIGALRM");
    },
    pids() {
      const m = new Map<string, number>();
      for (const r of all) if (r.child?.pid !== undefined) m.set(r.part.name, r.child.pid);
      return m;
    },
  };
}

/** A part's stdin is a pipe start never writes to: its end of file tells the part that start is gone (cli/_parent.ts). */
function spawnPart(p: Part): ChildProcess {
  const self = selfCommand();
  return spawn(self.cmd, [...self.args, ...p.argv], { stdio: ["pipe", "pipe", "pipe"], argv0: "qm", env: { ...process.env, QM_PARENT: "stdin" } });
}

/** Each line of the child's stdout and stderr to `out`, bounded in length. */
function relay(child: ChildProcess, p: Part, out: (line: string) => void): void {
  const tag = `${p.name.split(" ")[0]}: `;
  const own = [tag, `qm ${tag}`, ...(p.children ?? []).map((c) => `${c}: `)];
  const lines = (raw: boolean) => {
    let buf = "";
    const emit = (l: string) => out(raw || own.some((t) => l.startsWith(t)) ? `${l}\n` : `${tag}${l}\n`);
    return {
      data(b: Buffer) {
        buf += b.toString("latin1");
        for (;;) {
          const nl = buf.indexOf("\n");
          if (nl >= 0 && nl <= MAX_LINE) {
            emit(buf.slice(0, nl));
            buf = buf.slice(nl + 1);
          } else if (buf.length > MAX_LINE) {
            emit(buf.slice(0, MAX_LINE)); // a line without end is cut, never held whole
            buf = buf.slice(MAX_LINE);
          } else break;
        }
      },
      end() {
        if (buf !== "") emit(buf);
        buf = "";
      },
    };
  };
  const o = lines(p.rawStdout === true);
  const e = lines(false);
  child.stdout?.on("data", o.data).on("end", o.end);
  child.stderr?.on("data", e.data).on("end", e.end);
}

export interface LogSetup {
  readonly stamp: StampMode;
  /** the syslog socket to send lines to instead of `write`; null: write them */
  readonly syslog: string | null;
}

/** --log iso|tai64n|none and --syslog[=PATH] from start's argv. */
export function logSetup(rawArgs: readonly string[]): Result<LogSetup> {
  let mode = "iso";
  let syslog: string | null = null;
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i]!;
    if (a === "--log") mode = rawArgs[++i] ?? "";
    else if (a.startsWith("--log=")) mode = a.slice(6);
    else if (a === "--syslog") syslog = "/dev/log";
    else if (a.startsWith("--syslog=")) syslog = a.slice(9);
  }
  if (!STAMP_MODES.includes(mode as StampMode)) return perm(`--log takes ${STAMP_MODES.join(", ")}, not ${mode}`, "5.3.5");
  if (syslog === "") return perm("--syslog= needs a socket path", "5.3.5");
  return ok({ stamp: mode as StampMode, syslog });
}

export interface LogWriter {
  /** one whole line, newline included, as start() hands it on */
  readonly out: (line: string) => void;
  close(): Promise<void>;
}

/**
 * Where start's lines go: to `write` with a time stamp at the start of each
 * (qm-log(5)), or to syslog (facility mail, the severity from the line's
 * class word; syslog stamps them itself), falling back to `write` while the
 * syslog helper cannot run.
 */
export function logWriter(setup: LogSetup, write: (text: string) => void, now: () => number = Date.now): LogWriter {
  const stamped = (line: string) => write(`${stamp(setup.stamp, now())}${line}`);
  if (setup.syslog === null) return { out: stamped, close: async () => {} };
  const sys = openSyslog({ socket: setup.syslog, tag: "qm", pid: process.pid, fallback: (l) => stamped(`${l}\n`) });
  return {
    out: (line) => {
      const l = line.endsWith("\n") ? line.slice(0, -1) : line;
      sys.write(l, severity(l));
    },
    close: () => sys.close(),
  };
}

/**
 * Before the parts start: this is the only qm start on `home` ($QMHOME/start.pid;
 * a second one fails at once with "already running (pid N)"), and a warning
 * line for a control/me without a dot. `release` removes the pid file.
 */
export async function claimHome(home: string): Promise<Result<{ release(): void; warnings: string[] }>> {
  const claim = claimPidFile(join(home, "start.pid"), "start");
  if (claim.kind !== "ok") return claim;
  const me = await readControlLine(home, "me", null);
  const warn = me.kind === "ok" && me.value !== null ? meWarning(me.value) : null;
  return ok({ release: claim.value.release, warnings: warn ? [`start: ${warn}`] : [] });
}

/**
 * True when qm start's listeners will run as a user that does not own the
 * queue but is in the queue's group (root starting smtpd as qmaild, group
 * qmail, on an install.sh host): they then hand messages to qm queued rather
 * than writing maildrop/ (qm-queued(8)). A listener outside the group could
 * not reach the socket, so qm queued is not started for it.
 */
export async function listenersNeedQueued(home: string, smtpdUser: string): Promise<boolean> {
  if ((process.getuid?.() ?? -1) !== 0) return false; // not root: smtpd stays this user, and this user writes the queue or nothing does
  const q = statSync(queueDir(home), { throwIfNoEntry: false });
  const user = await getpwnam(smtpdUser);
  return q !== undefined && user !== null && user.uid !== q.uid && user.uid !== 0 && user.gid === q.gid;
}
