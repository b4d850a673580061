import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, readdirSync, readFileSync, renameSync, rmSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { qmCommand, runProcess, runQm, tempDir, type Run } from "../support/qm.ts";
import { fakeHome, queueFiles, sendOnce } from "../support/send-env.ts";
import { readDrop } from "../support/maildrop.ts";

// The maildrop path end to end (docs/maildrop.md), with the users a default
// install runs its writers as: qm smtpd as qmaild and qm inject as an
// ordinary user. Neither needs an account on this host: they run as bare
// uids (65534 for qmaild, 4242 for the user), and the home is made so that
// those uids can reach it. Needs root (CI runs as root) to switch uids.

const isRoot = process.getuid?.() === 0;
const hasStrace = spawnSync("strace", ["-V"], { timeout: 10_000 }).status === 0;
const QMAILD = 65534;
const USER = 4242;
const QMAILQ = 65533; // the queue's owner in the second set-up

interface Writer {
  readonly who: string;
  readonly uid: number;
  /** the arguments and input of one message to `rcpt` */
  job(rcpt: string): { args: string[]; input: string; env: NodeJS.ProcessEnv };
  /** true when the run acknowledged the message */
  acked(r: Run): boolean;
}

const SMTPD: Writer = {
  who: "qm smtpd as qmaild (uid 65534)",
  uid: QMAILD,
  job: (rcpt) => ({
    args: ["smtpd"],
    input: `HELO client.test\r\nMAIL FROM:<joe@client.test>\r\nRCPT TO:<${rcpt}>\r\nDATA\r\nSubject: to ${rcpt}\r\n\r\nbody\r\n.\r\nQUIT\r\n`,
    env: { TCPREMOTEIP: "192.0.2.9", RELAYCLIENT: "" }, // a relay client: no local mailbox check
  }),
  acked: (r) => /^250 2\.0\.0 ok /m.test(r.stdout.toString("latin1")),
};
const INJECT: Writer = {
  who: "qm inject as an ordinary user (uid 4242, umask 077)",
  uid: USER,
  job: (rcpt) => ({ args: ["inject", "--", rcpt], input: `Subject: to ${rcpt}\n\nbody\n`, env: { USER: "alice", HOME: "/tmp" } }),
  acked: (r) => r.code === 0,
};

/** A home the writers' uids can reach; its queue owned by root or by a queue user. */
async function home(queueOwner: number): Promise<string> {
  const h = await fakeHome();
  chmodSync(join(h, ".."), 0o755);
  if (queueOwner !== 0) spawnSync("chown", ["-R", `${queueOwner}:${queueOwner}`, join(h, "queue")], { timeout: 10_000 });
  return h;
}

function run(w: Writer, h: string, rcpt: string, strace: string[] = []): Promise<Run> {
  const j = w.job(rcpt);
  const { cmd, args } = qmCommand();
  const env = { ...j.env, QMHOME: h };
  // umask 077 for the user: the file must still be readable by the queue's owner
  const shell = ["-c", 'umask 077; exec "$@"', "sh", ...strace, cmd, ...args, ...j.args];
  return runProcess("sh", shell, { input: j.input, env, timeoutMs: 60_000, spawn: { uid: w.uid, gid: w.uid } });
}

const drops = (h: string) => readdirSync(join(h, "queue/maildrop")).sort();

describe("the maildrop path", { timeout: 300_000, skip: !isRoot && "needs root to run the writers as other uids" }, () => {
  for (const w of [SMTPD, INJECT]) {
    describe(w.who, () => {
      it("acknowledges only after the file is whole and fsynced under its final name, with no rename and no directory fsync (strace)", { skip: !hasStrace && "strace is not installed (scripts/apt-packages.txt)" }, async () => {
        const h = await home(0);
        const trace = join(tempDir("qm-strace-"), "trace");
        chmodSync(join(trace, ".."), 0o777);
        const r = await run(w, h, "ok-traced@remote.test", ["strace", "-f", "-y", "-qq", "-s", "4096", "-o", trace, "-e", "trace=openat,write,pwrite64,fsync,fdatasync,close,rename,renameat,renameat2,link,linkat,exit_group"]);
        assert.ok(w.acked(r), r.stderr.toString());
        const [name] = drops(h);
        assert.match(name ?? "", /^\d+\.\d+\.[0-9a-f]{16}$/);
        assert.equal(readDrop(join(h, "queue/maildrop", name!)).envelope.endsWith("Tok-traced@remote.test\0\0"), true);
        const lines = readFileSync(trace, "latin1").split("\n");
        if (!process.env.KEEP_TRACE) rmSync(join(trace, ".."), { recursive: true, force: true }); else console.log(trace);
        const file = `/queue/maildrop/${name}>`;
        const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
        // the open completes on its line, or on its "resumed" line when another thread's call came between
        const opening = at(new RegExp(`openat\\(.*/queue/maildrop/${name}", O_WRONLY\\|O_CREAT\\|O_EXCL`));
        const opener = opening >= 0 ? lines[opening]!.split(" ")[0] : "";
        const created = opening >= 0 && /= \d+</.test(lines[opening]!) ? opening : lines.findIndex((l, i) => i > opening && l.startsWith(`${opener} `) && l.includes("openat resumed>") && /= \d+</.test(l));
        assert.ok(opening >= 0 && created >= 0, `the file is created under its final name: ${lines[opening] ?? "no open"}`);
        // fsync completes either on its line or on its "resumed" line (a thread-pool fsync)
        const fsyncStart = lines.findIndex((l) => l.includes("fsync(") && l.includes(file));
        assert.ok(fsyncStart > created, "the file is fsynced");
        const pid = lines[fsyncStart]!.split(" ")[0];
        const fsynced = / = 0$/.test(lines[fsyncStart]!) ? fsyncStart : lines.findIndex((l, i) => i > fsyncStart && l.startsWith(`${pid} `) && l.includes("fsync resumed>") && / = 0$/.test(l));
        assert.ok(fsynced > 0, `the fsync succeeded: ${lines[fsyncStart]}`);
        const closed = lines.findIndex((l, i) => i > fsynced && l.includes("close(") && l.includes(file) && / = 0$/.test(l));
        assert.ok(closed > fsynced, "closed after the fsync, without error");
        const lastWrite = lines.findLastIndex((l) => /(?:write|pwrite64)\(/.test(l) && l.includes(file));
        assert.ok(lastWrite > created && lastWrite < fsyncStart, "every write to the file comes before the fsync");
        // a write of SMTP replies, the last of them the 250 (under tsx, esbuild's transform of smtpd's source, which holds that text, goes through a pipe too)
        const ack = w === SMTPD ? at(/write\(1<[^>]*>, "(?:\d{3}[ -](?:(?!\\r\\n).)*\\r\\n)*250 2\.0\.0 ok \d+ qp /) : at(/exit_group\(0\)/);
        assert.ok(ack > closed, `the acknowledgement (${lines[ack]}) comes after the fsync and close; writes to fd 1: ${lines.filter((l) => l.includes("write(1<")).map((l) => l.slice(0, 160)).join(" | ")}`);
        // (only the queue's files count: under tsx, the runtime's own transpile cache is written by rename)
        const moved = lines.filter((l) => /^\d+ +(?:rename|renameat2?|link|linkat)\(/.test(l) && l.includes("/queue/"));
        assert.deepEqual(moved, [], "no rename or link in the queue");
        assert.equal(at(/openat\(.*\/queue\/maildrop", .*O_DIRECTORY/), -1, "the maildrop directory is never opened");
        const failed = lines.filter((l) => /^\d+ +(?:<\.\.\. )?(?:fsync|fdatasync|close|write|pwrite64)\b.* = -1 E/.test(l) && l.includes("/queue/"));
        assert.deepEqual(failed, [], "no durability step failed");
      });

      it("says so when the fsync fails (451 / exit 111) and leaves nothing behind (strace fault injection)", { skip: !hasStrace && "strace is not installed" }, async () => {
        const h = await home(0);
        const r = await run(w, h, "ok-failed@remote.test", ["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=fsync,fdatasync", "-e", "inject=fsync,fdatasync:error=EIO"]);
        assert.ok(!w.acked(r), "not acknowledged");
        if (w === SMTPD) assert.match(r.stdout.toString("latin1"), /^451 4\.3\.0 Write error or disk full: unable to fsync the maildrop file: i\/o error/m);
        else {
          assert.equal(r.code, 111);
          assert.match(r.stderr.toString(), /unable to fsync the maildrop file/);
        }
        assert.deepEqual(drops(h), []);
      });

      for (const owner of [0, QMAILQ]) {
        it(`after a crash: a whole .NAME (a lost rename) is delivered once, a file cut mid-write never (queue owned by uid ${owner}, qm send as root)`, async () => {
          const h = await home(owner);
          const lost = await run(w, h, "ok-lost@remote.test");
          const [lostName] = drops(h);
          const cut = await run(w, h, "ok-cut@remote.test");
          const cutName = drops(h).find((n) => n !== lostName)!;
          const plain = await run(w, h, "ok-plain@remote.test");
          for (const r of [lost, cut, plain]) assert.ok(w.acked(r), r.stderr.toString());
          assert.equal(statSync(join(h, "queue/maildrop", cutName)).uid, w.uid);
          renameSync(join(h, "queue/maildrop", lostName!), join(h, "queue/maildrop", `.${lostName}`));
          const path = join(h, "queue/maildrop", cutName);
          truncateSync(path, Math.floor(statSync(path).size / 2));
          const first = await sendOnce(h);
          const second = await sendOnce(h);
          const log = (first.stdout.toString("latin1") + second.stdout.toString("latin1")).split("\n");
          const delivered = (rcpt: string) => log.filter((l) => /^delivery \d+: success: /.test(l) && l.includes(`fake_delivered_to_${rcpt}`)).length;
          assert.equal(delivered("ok-lost@remote.test"), 1, log.join("\n"));
          assert.equal(delivered("ok-plain@remote.test"), 1, log.join("\n"));
          assert.equal(delivered("ok-cut@remote.test"), 0, log.join("\n"));
          assert.ok(log.some((l) => new RegExp(`^info msg \\d+: bytes \\d+ from <[^>]*> qp \\d+ uid ${w.uid}$`).test(l)), log.join("\n"));
          // the cut file's writer has exited, but it was written moments ago: kept until it has been quiet for 15 minutes
          assert.deepEqual(drops(h), [cutName]);
          const later = await sendOnce(h, [], { QM_CLOCK_OFFSET: "1000" });
          const said = later.stdout.toString("latin1");
          assert.match(said, new RegExp(`^warning: maildrop/${cutName.replace(/\./g, "\\.")} incomplete, its writer, pid \\d+, has exited; removed$`, "m"));
          assert.deepEqual(drops(h), []);
          assert.ok(!said.includes("ok-cut"), said);
          assert.deepEqual(queueFiles(h).filter((f) => !f.startsWith("maildrop")), []);
        });
      }
    });
  }
});
