import { spawn, type ChildProcess } from "node:child_process";
import { statSync } from "node:fs";

/**
 * Lines to the local syslog daemon, facility mail. The socket (/dev/log) is
 * a Unix datagram socket, which Node cannot open without a native addon, so
 * the lines go through one long-running logger(1) (util-linux, in Debian's
 * essential bsdutils): it reads a line at a time from a pipe, takes the
 * priority from a "<PRI>" prefix (--prio-prefix) and tries a datagram, then
 * a stream connection to the socket. A logger that dies is started again
 * for the next line, at most once a second. While there is no socket or no
 * logger, lines go to `fallback`; so do the lines of the last second before
 * a logger died, which it may not have sent (some may then be in both).
 */
export const FACILITY_MAIL = 2;

export interface Syslog {
  /** One line (no newline) at an RFC 5424 severity. */
  write(line: string, severity: number): void;
  /** Closes the pipe and waits for logger to send what it has. */
  close(): Promise<void>;
}

export interface SyslogOptions {
  readonly socket: string; // "/dev/log"
  readonly tag: string; // "qm"
  readonly pid: number; // shown as tag[pid]
  readonly fallback: (line: string) => void; // when logger cannot be run
  readonly logger?: string; // the program; default "logger" from PATH
}

/** Longest message logger is told to pass (its default is 1 KiB); longer lines are cut by it. */
const MAX_MESSAGE = 16 * 1024;
/** Lines written this recently to a logger that dies are given to the fallback too. */
const REPLAY_MS = 1000;

export function openSyslog(o: SyslogOptions): Syslog {
  let child: ChildProcess | null = null;
  let failedAt = 0;
  let recent: { at: number; line: string }[] = [];
  const start = (): ChildProcess | null => {
    if (child) return child;
    if (Date.now() - failedAt < 1000) return null; // do not spin on a logger that dies at once
    if (!isSocket(o.socket)) {
      failedAt = Date.now();
      o.fallback(`start: warning: no syslog socket at ${o.socket}; lines go to standard output`);
      return null;
    }
    const c = spawn(o.logger ?? "logger", ["--socket", o.socket, "--socket-errors=on", "--prio-prefix", "--tag", o.tag, `--id=${o.pid}`, "--size", String(MAX_MESSAGE)], { stdio: ["pipe", "ignore", "pipe"] });
    let err = "";
    c.stderr!.on("data", (b: Buffer) => (err = (err + b.toString("latin1")).slice(-2000)));
    c.stdin!.on("error", () => {});
    const gone = (why: string) => {
      if (child !== c) return;
      child = null;
      failedAt = Date.now();
      o.fallback(`start: warning: logger for ${o.socket} ${why}${err ? `: ${err.trim().replace(/\n/g, "/")}` : ""}`);
      const since = Date.now() - REPLAY_MS;
      for (const r of recent.splice(0)) if (r.at >= since) o.fallback(r.line);
    };
    c.on("error", (e) => gone(`could not be started: ${e.message}`));
    c.on("exit", (code, sig) => gone(sig ? `killed by ${sig}` : `exited with code ${code}`));
    child = c;
    return c;
  };
  return {
    write(line, sev) {
      const c = start();
      if (!c) return o.fallback(line);
      const at = Date.now();
      if (recent.length > 0 && recent[0]!.at < at - REPLAY_MS) recent = recent.filter((r) => r.at >= at - REPLAY_MS);
      recent.push({ at, line });
      c.stdin!.write(`<${FACILITY_MAIL * 8 + sev}>${line}\n`, "latin1");
    },
    close() {
      const c = child;
      if (!c) return Promise.resolve();
      child = null;
      return new Promise((resolve) => {
        c.once("exit", () => resolve());
        c.stdin!.end();
      });
    },
  };
}

function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}
