// The straight paper path of a direct queue write (docs/qmail.md §1.2), seen
// from outside with strace: qm inject and qm smtpd running as the queue's
// owner, and qm smtpd as another user through qm queued, acknowledge a
// message (exit 0, the 250) only after the mess and intd files and both their
// directories are fsynced, todo/ is linked after those four fsyncs, and todo/
// itself is fsynced before the acknowledgement (issue 23: speed work must
// keep every one of these steps).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { qmCommand, runProcess, tempDir, type Run } from "../support/qm.ts";
import { fakeHome, queueFiles } from "../support/send-env.ts";

const hasStrace = spawnSync("strace", ["-V"], { timeout: 10_000 }).status === 0;
const hasSetpriv = spawnSync("setpriv", ["--version"], { timeout: 10_000 }).status === 0;
const isRoot = process.getuid?.() === 0;

interface Writer {
  readonly who: string;
  readonly args: string[];
  input(rcpt: string): string;
  readonly env: NodeJS.ProcessEnv;
  /** the trace line index of the acknowledgement, -1 when there is none */
  ack(lines: readonly string[]): number;
  /** the command line that runs qm (cmd, args) with `argv` (default: as it is) */
  wrap?(cmd: string, args: readonly string[]): string[];
  /** made ready before the run */
  prepare?(home: string): void;
  readonly skip?: string | false;
}

const INJECT: Writer = {
  who: "qm inject as the queue's owner",
  args: ["inject", "--", "durable@remote.test"],
  input: () => "Subject: durable\n\nbody\n",
  env: { USER: "root", HOME: "/tmp" },
  ack: (lines) => lines.findIndex((l) => /exit_group\(0\)/.test(l)),
};
const SMTPD: Writer = {
  who: "qm smtpd as the queue's owner",
  args: ["smtpd"],
  input: (rcpt) => `HELO client.test\r\nMAIL FROM:<joe@client.test>\r\nRCPT TO:<${rcpt}>\r\nDATA\r\nSubject: durable\r\n\r\nbody\r\n.\r\nQUIT\r\n`,
  env: { TCPREMOTEIP: "192.0.2.9", RELAYCLIENT: "" },
  // the call that carries the 250 (stdout here is the test's socket pair; Bun may write it through a descriptor of its own)
  ack: (lines) => lines.findIndex((l) => /(?:write|writev|sendto|sendmsg)\(\d+<[^>]*>,.*250 2\.0\.0 ok \d+ qp /.test(l)),
};

/**
 * qm smtpd as a user that does not own the queue (uid 65534, as qmaild on an
 * install.sh host), with qm queued running as the queue's owner (uid 65533,
 * group 65534): the message goes through the socket, and the 250 must still
 * wait for qm queued's commit.
 */
const THROUGH_QUEUED: Writer = {
  ...SMTPD,
  who: "qm smtpd as another user, through qm queued",
  prepare: (home) => {
    chmodSync(join(home, ".."), 0o755);
    spawnSync("chown", ["-R", "65533:65534", join(home, "queue")], { timeout: 10_000 });
  },
  // qm queued first (in the background, until its socket is there), then smtpd as uid 65534; qm queued is stopped at the end
  wrap: (cmd, args) => [
    "sh",
    "-c",
    'q() { "$@" queued & Q=$!; }; q "$@"; i=0; while [ ! -S "$QMHOME/queue/lock/queued/socket" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done; setpriv --reuid=65534 --regid=65534 --clear-groups "$@" smtpd; r=$?; kill $Q; wait $Q; exit $r',
    "sh",
    cmd,
    ...args,
  ],
  skip: !isRoot ? "needs root to run smtpd and qm queued as other uids" : !hasSetpriv && "setpriv (util-linux) is not installed",
};

/** Where the call that starts at `start` returned `want` (its own line, or its "resumed" line when another thread came between). */
function completion(lines: readonly string[], start: number, want: RegExp): number {
  if (start < 0) return -1;
  if (want.test(lines[start]!)) return start;
  const tid = lines[start]!.split(" ")[0];
  return lines.findIndex((l, i) => i > start && l.startsWith(`${tid} `) && l.includes("resumed>") && want.test(l));
}

describe("the direct queue write is durable before it is acknowledged (strace)", { timeout: 240_000, skip: !hasStrace && "strace is not installed (scripts/apt-packages.txt)" }, () => {
  for (const w of [INJECT, SMTPD, THROUGH_QUEUED]) {
    it(w.who, { timeout: 120_000, skip: w.skip ?? false }, async () => {
      const h = await fakeHome();
      w.prepare?.(h);
      const dir = tempDir("qm-strace-");
      chmodSync(dir, 0o777);
      const trace = join(dir, "trace");
      const { cmd, args } = qmCommand();
      const strace = ["-f", "-y", "-qq", "-s", "4096", "-o", trace, "-e", "trace=fsync,fdatasync,link,linkat,write,writev,sendto,sendmsg,exit_group"];
      const run = w.wrap ? w.wrap(cmd, args) : [cmd, ...args, ...w.args];
      const r: Run = await runProcess("strace", [...strace, ...run], { input: w.input("durable@remote.test"), env: { ...process.env, QMHOME: h, ...w.env }, timeoutMs: 60_000 });
      const lines = readFileSync(trace, "latin1").split("\n");
      rmSync(dir, { recursive: true, force: true });
      assert.equal(queueFiles(h).filter((f) => f.startsWith("todo/")).length, 1, `one message queued directly: ${r.stdout.toString()} ${r.stderr.toString()} ${queueFiles(h).join(" ")}`);
      assert.deepEqual(queueFiles(h).filter((f) => f.startsWith("maildrop/")), [], "not through maildrop/");
      const ok = / = 0$/;
      const fsynced = (re: RegExp): number => completion(lines, lines.findIndex((l) => /fsync\(/.test(l) && re.test(l)), ok);
      // the mess file is written through its pid/ name, linked to mess/ first: strace names the descriptor by the pid/ name
      const messLink = lines.findIndex((l) => /link(?:at)?\(.*\/queue\/pid\/[^"]+".*\/queue\/mess\/\d+\/\d+"/.test(l));
      assert.ok(messLink >= 0, "the pid/ file is linked to mess/");
      const mess = fsynced(/<[^>]*\/queue\/(?:mess\/\d+\/\d+|pid\/[^>]+)>/);
      const intd = fsynced(/<[^>]*\/queue\/intd\/\d+>/);
      const messDir = fsynced(/<[^>]*\/queue\/mess\/\d+>/);
      const intdDir = fsynced(/<[^>]*\/queue\/intd>/);
      for (const [what, at] of [["mess", mess], ["intd", intd], ["mess/N/", messDir], ["intd/", intdDir]] as const) assert.ok(at >= 0, `${what} is fsynced`);
      const linkStart = lines.findIndex((l) => /link(?:at)?\(.*\/queue\/intd\/\d+".*\/queue\/todo\/\d+"/.test(l));
      const linked = completion(lines, linkStart, ok);
      assert.ok(linkStart > Math.max(mess, intd, messDir, intdDir), "todo/ is linked only after the four fsyncs have returned");
      assert.ok(linked >= linkStart, "the link succeeded");
      const todoDir = completion(lines, lines.findIndex((l, i) => i > linked && /fsync\(/.test(l) && /<[^>]*\/queue\/todo>/.test(l)), ok);
      assert.ok(todoDir > linked, "todo/ is fsynced after the link");
      const ack = w.ack(lines);
      assert.ok(ack > todoDir, `the acknowledgement (${lines[ack] ?? "none"}) comes after todo/ is durable (at ${todoDir}); writes: ${lines.filter((l) => /write|send/.test(l) && !/eventfd/.test(l)).map((l) => l.slice(0, 120)).join(" | ")}`);
    });
  }
});
