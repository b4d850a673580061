// `qm start` as a process: it delivers, passes SIGHUP on, starts a killed
// part again, and stops everything cleanly on SIGTERM.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import nodemailer from "nodemailer";
import { joeHome } from "../support/joe-home.ts";
import { fastQm, ROOT, runQm, tempDir } from "../support/qm.ts";
import { nextDelay, start, type Part } from "../../core/prog/start.ts";
import { Started, waitFor } from "../support/started.ts";

const NO_F2B = spawnSync("sh", ["-c", "command -v fail2ban-regex"], { timeout: 60_000 }).status === 0 ? false : "fail2ban-regex is not installed (Debian package fail2ban)";
const ROOT_ONLY = process.getuid?.() !== 0 ? "needs root: parts drop to other users, deliveries run as the recipient's uid" : false;

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;

/** A running `qm start` and everything it has printed: `raw` as written, `text` without the time stamps. */

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}


/** One SMTP transaction on loopback; resolves with the reply codes. */
function smtp(port: number, lines: readonly string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, "127.0.0.1");
    let got = "";
    sock.setTimeout(20_000, () => sock.destroy(new Error("smtp timeout")));
    // the commands up to DATA pipelined, the message after the 354 (as a client must: RFC 2920 §3.1)
    const cut = lines.indexOf("DATA") + 1 || lines.length;
    let rest = lines.slice(cut).map((l) => `${l}\r\n`).join("");
    sock.on("data", (b) => {
      got += b.toString("latin1");
      if (rest !== "" && /^354 /m.test(got)) {
        sock.write(rest);
        rest = "";
      }
    });
    sock.on("error", reject);
    sock.on("close", () => resolve(got.split("\r\n").filter((l) => /^\d{3} /.test(l)).map((l) => l.slice(0, 3))));
    sock.write(lines.slice(0, cut).map((l) => `${l}\r\n`).join(""));
  });
}

describe("qm start", { skip: ROOT_ONLY, timeout: 300_000 }, () => {
  let home = "";
  let maildir = "";
  let fast = "";
  let qm: Started;
  let port = 0;
  const newMail = () => (existsSync(join(maildir, "new")) ? readdirSync(join(maildir, "new")) : []);
  const inject = async (subject: string) => {
    const r = spawnSync(fast, ["inject", "joe@example.test"], { input: `Subject: ${subject}\n\n${subject} body\n`, env: { ...process.env, QMHOME: home }, timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr.toString());
  };
  const delivered = (subject: string) =>
    waitFor(`delivery of ${subject}`, () => newMail().find((f) => readFileSync(join(maildir, "new", f), "latin1").includes(`Subject: ${subject}\n`)));

  before(async () => {
    fast = await fastQm();
    ({ home, maildir } = joeHome(fast));
    // STARTTLS and AUTH for the session-log test: a certificate and a checkpassword program (joe, s3cret)
    const certDir = tempDir("qm-cert-");
    spawnSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(certDir, "k"), "-out", join(certDir, "c"), "-days", "2", "-subj", "/CN=mx.example.test"], { timeout: 60_000, stdio: "ignore" });
    writeFileSync(join(home, "control", "servercert.pem"), readFileSync(join(certDir, "k"), "latin1") + readFileSync(join(certDir, "c"), "latin1"), { mode: 0o600 });
    writeFileSync(join(home, "checkpw"), `#!/usr/bin/python3\nimport os, sys\nd = os.read(3, 2048).split(b"\\0")\nsys.exit(0 if d[:2] == [b"joe", b"s3cret"] else 1)\n`, { mode: 0o755 });
    writeFileSync(join(home, "control", "checkpassword"), `${join(home, "checkpw")}\n`);
    qm = new Started(home, ["--listen", "127.0.0.1:0", "--smtpd-user", "nobody"]);
    port = Number((await qm.wait(/smtpd: listening on 127\.0\.0\.1:(\d+)/))[1]);
  });
  after(() => {
    if (qm && qm.child.exitCode === null) qm.child.kill("SIGKILL");
  });

  it("runs send and smtpd and delivers injected mail", async () => {
    assert.match(qm.text, /^start: send started, pid \d+$/m);
    assert.match(qm.text, /^start: smtpd started, pid \d+$/m);
    await qm.wait(/^status: local 0\/10 remote 0\/20$/m); // send's log lines pass through unchanged
    await inject("first");
    await delivered("first");
  });

  it("accepts and delivers a message over SMTP", async () => {
    const codes = await smtp(port, ["HELO client.example", "MAIL FROM:<a@client.example>", "RCPT TO:<joe@example.test>", "DATA", "Subject: by-smtp", "", "hi", ".", "QUIT"]);
    assert.deepEqual(codes, ["220", "250", "250", "250", "354", "250", "221"]);
    await delivered("by-smtp");
  });

  it("logs, time-stamped, a refused relay, a failed and a good AUTH, and the accepted message under the id qm send gives it", async () => {
    const from = qm.raw.length;
    assert.deepEqual(await smtp(port, ["EHLO c.example", "MAIL FROM:<a@client.example>", "RCPT TO:<victim@elsewhere.test>", "QUIT"]), ["220", "250", "250", "553", "221"]);
    const tls = { host: "127.0.0.1", port, secure: false, requireTLS: true, tls: { rejectUnauthorized: false } } as const;
    const bad = nodemailer.createTransport({ ...tls, auth: { user: "joe", pass: "wrong" }, authMethod: "LOGIN" });
    await assert.rejects(bad.sendMail({ from: "joe@example.test", to: "joe@example.test", text: "x" }), /535/);
    bad.close();
    const good = nodemailer.createTransport({ ...tls, auth: { user: "joe", pass: "s3cret" }, authMethod: "PLAIN" });
    const info = await good.sendMail({ from: "joe@example.test", to: "joe@example.test", subject: "logged", text: "hi" });
    good.close();
    assert.match(info.response, /^250 2\.0\.0 ok \d+ qp \d+$/, "smtpd runs as nobody and queues through maildrop/: the id comes later");
    await delivered("logged");
    const log = await waitFor("the message's end msg line", () => {
      const l = qm.raw.slice(from);
      const m = /info maildrop\/\S+ uid 65534 queued as (\d+)$/m.exec(l);
      return m && new RegExp(`Z end msg ${m[1]}$`, "m").test(l) ? l : null;
    });
    const S = String.raw`(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) smtpd: (\d+\.\d+)`;
    const relay = new RegExp(`^${S} refused 127\\.0\\.0\\.1 RCPT <victim@elsewhere\\.test> from <a@client\\.example>: 553 5\\.7\\.1 sorry, that domain isn't in my list of allowed rcpthosts$`, "m").exec(log);
    assert.ok(relay, log);
    assert.match(log, new RegExp(`^\\S+ smtpd: ${relay[2]!.replace(".", "\\.")} connect 127\\.0\\.0\\.1 port \\d+ to 127\\.0\\.0\\.1 port ${port}$`, "m"));
    assert.match(log, new RegExp(`^${S} starttls 127\\.0\\.0\\.1 TLSv1\\.[23] \\S+$`, "m"));
    assert.match(log, new RegExp(`^${S} auth failed 127\\.0\\.0\\.1 user joe mech LOGIN via checkpassword$`, "m"));
    assert.match(log, new RegExp(`^${S} auth ok 127\\.0\\.0\\.1 user joe mech PLAIN via checkpassword$`, "m"));
    assert.doesNotMatch(log, /s3cret|wrong/, "no password in the log");
    const accepted = new RegExp(`^${S} accepted 127\\.0\\.0\\.1 maildrop/(\\S+) from <joe@example\\.test> rcpts 1 user joe$`, "m").exec(log);
    assert.ok(accepted, log);
    const intake = new RegExp(`^\\S+Z info maildrop/${accepted[3]!.replace(/\./g, "\\.")} uid 65534 queued as (\\d+)$`, "m").exec(log);
    assert.ok(intake, log);
    assert.match(log, new RegExp(`^\\S+Z info msg ${intake[1]}: bytes \\d+ from <joe@example\\.test> qp \\d+ uid 65534$`, "m"));
    assert.match(log, new RegExp(`^\\S+Z end msg ${intake[1]}$`, "m"));
    const stamps = [relay[1]!, accepted[1]!].map((t) => Date.parse(t));
    assert.ok(stamps.every((t) => Math.abs(t - Date.now()) < 120_000), "stamped with the time");
  });

  it("contrib/fail2ban's filter matches the failed AUTH and the relay attempt qm wrote, and nothing else", { skip: NO_F2B }, () => {
    const file = join(tempDir("qm-f2b-"), "current");
    writeFileSync(file, qm.raw);
    const r = spawnSync("fail2ban-regex", ["--print-all-matched", file, join(ROOT, "contrib/fail2ban/filter.d/qm-smtpd.conf")], { encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\|\s+1\) \[1\] .*auth failed/m, r.stdout);
    assert.match(r.stdout, /^\|\s+2\) \[1\] .*refused/m, r.stdout);
    assert.match(r.stdout, /^Lines: \d+ lines, 0 ignored, 2 matched, \d+ missed/m, r.stdout);
    const matched = r.stdout.slice(r.stdout.indexOf("Matched line(s)"));
    assert.match(matched, /smtpd: \d+\.\d+ auth failed 127\.0\.0\.1 user joe/);
    assert.match(matched, /smtpd: \d+\.\d+ refused 127\.0\.0\.1 RCPT <victim@elsewhere\.test>/);
  });

  it("a second qm start on the same home exits 111 at once, naming the running one", async () => {
    const t = Date.now();
    const r = spawnSync(fast, ["start", "--no-smtpd"], { env: { ...process.env, QMHOME: home }, encoding: "latin1", timeout: 30_000 });
    assert.equal(r.status, 111, r.stdout + r.stderr);
    assert.equal(r.stderr, `qm start: temporary: already running (pid ${qm.child.pid}). (#4.3.0)\n`);
    assert.equal(r.stdout, "");
    assert.ok(Date.now() - t < 15_000);
    assert.equal(readFileSync(join(home, "start.pid"), "latin1"), `${qm.child.pid}\n`, "the running start's claim stays");
  });

  it("passes SIGHUP to every part, each logs its reload line, and nothing is restarted", async () => {
    const from = qm.text.length;
    qm.child.kill("SIGHUP");
    await qm.wait(/^start: SIGHUP: passed to send, smtpd$/m, from);
    for (const part of ["send", "lspawn", "rspawn", "smtpd"]) await qm.wait(new RegExp(`^${part}: reload: reloaded control files; none changed$`, "m"), from);
    await inject("after-hup");
    await delivered("after-hup");
    assert.doesNotMatch(qm.text.slice(from), /started, pid/);
    assert.ok(qm.child.exitCode === null);
  });

  it("starts a killed part again and keeps delivering", async () => {
    const sendPid = Number((await qm.wait(/^start: send started, pid (\d+)$/m))[1]);
    const from = qm.text.length;
    process.kill(sendPid, "SIGKILL");
    await qm.wait(/^start: send killed by SIGKILL; starting it again in 1 s$/m, from);
    const again = Number((await qm.wait(/^start: send started, pid (\d+)$/m, from))[1]);
    assert.notEqual(again, sendPid);
    await inject("after-kill");
    await delivered("after-kill");
  });

  it("stops every part on SIGTERM and exits 0", async () => {
    const pids = [...qm.text.matchAll(/started, pid (\d+)/g)].map((m) => Number(m[1]));
    const from = qm.text.length;
    qm.child.kill("SIGTERM");
    const end = await qm.exited();
    assert.deepEqual(end, { code: 0, signal: null });
    const tail = qm.text.slice(from);
    assert.match(tail, /^start: stopping$/m);
    assert.match(tail, /^start: send exited with code 0$/m);
    assert.match(tail, /^start: smtpd exited with code 0$/m);
    assert.match(tail, /^start: all parts stopped$/m);
    for (const pid of pids) assert.equal(alive(pid), false, `part ${pid} is gone`);
    assert.equal(existsSync(join(home, "start.pid")), false, "a clean stop removes its pid file");
  });
});

describe("qm start killed outright", { skip: ROOT_ONLY, timeout: 300_000 }, () => {
  it("its parts stop by themselves: a SIGKILLed start leaves no queue manager or listener running", async () => {
    const fast = await fastQm();
    const home = join(tempDir(), "qm");
    chmodSync(join(home, ".."), 0o755);
    assert.equal(spawnSync(fast, ["init", "--me", "example.test"], { env: { ...process.env, QMHOME: home }, timeout: 60_000 }).status, 0);
    const qm = new Started(home, ["--listen", "127.0.0.1:0", "--smtpd-user", "nobody"]);
    await qm.wait(/smtpd: listening on 127\.0\.0\.1:\d+/);
    await qm.wait(/^status: local 0\/10 remote 0\/20$/m);
    const pids = [...qm.text.matchAll(/started, pid (\d+)/g)].map((m) => Number(m[1]));
    assert.equal(pids.length, 2);
    qm.child.kill("SIGKILL");
    await qm.exited();
    // gone, or a zombie waiting for init to reap it
    const running = (pid: number): boolean => alive(pid) && !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "latin1"));
    await waitFor("the parts to stop", () => (pids.some(running) ? null : true), 20_000);
    // the queue is free again: a new start runs its own queue manager
    const again = new Started(home, ["--no-smtpd"]);
    await again.wait(/^status: local 0\/10 remote 0\/20$/m);
    again.child.kill("SIGTERM");
    assert.deepEqual(await again.exited(), { code: 0, signal: null });
  });
});

describe("qm start --no-smtpd", { skip: ROOT_ONLY, timeout: 300_000 }, () => {
  it("runs the queue manager alone", async () => {
    const fast = await fastQm();
    const home = join(tempDir(), "qm");
    assert.equal(spawnSync(fast, ["init", "--me", "example.test"], { env: { ...process.env, QMHOME: home }, timeout: 60_000 }).status, 0);
    const qm = new Started(home, ["--no-smtpd"]);
    await qm.wait(/^status: local 0\/10 remote 0\/20$/m);
    assert.doesNotMatch(qm.text, /smtpd/);
    qm.child.kill("SIGTERM");
    assert.deepEqual(await qm.exited(), { code: 0, signal: null });
  });
});

/** A private rsyslogd on a socket in `dir`, writing facility mail to dir/mail.log; stopped by its pid. */
async function startRsyslog(dir: string): Promise<{ socket: string; log: string; stop(): Promise<void> }> {
  const socket = join(dir, "log");
  const log = join(dir, "mail.log");
  writeFileSync(join(dir, "rsyslog.conf"), [
    `global(workDirectory="${dir}")`,
    `module(load="imuxsock" SysSock.Use="off")`,
    `input(type="imuxsock" Socket="${socket}")`,
    `mail.* action(type="omfile" file="${log}" template="RSYSLOG_FileFormat")`,
    "",
  ].join("\n"));
  const child = spawn("rsyslogd", ["-n", "-f", join(dir, "rsyslog.conf"), "-i", join(dir, "rsyslogd.pid")], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await waitFor(`rsyslogd's socket (${err})`, () => (existsSync(socket) ? true : null), 10_000);
  return {
    socket,
    log,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
const NO_RSYSLOG = spawnSync("sh", ["-c", "command -v rsyslogd"], { timeout: 60_000 }).status === 0 ? false : "rsyslogd is not installed (Debian package rsyslog)";

describe("qm start's log lines", { timeout: 300_000, skip: ROOT_ONLY }, () => {
  const run = async (args: readonly string[], ready?: () => Promise<unknown>, me = "example.test") => {
    const home = join(tempDir(), "qm");
    assert.equal(spawnSync(await fastQm(), ["init", "--me", me], { env: { ...process.env, QMHOME: home }, timeout: 60_000 }).status, 0);
    const qm = new Started(home, ["--no-smtpd", ...args]);
    await (ready ? ready() : qm.wait(/^status: local 0\/10 remote 0\/20$/m));
    qm.child.kill("SIGTERM");
    assert.deepEqual(await qm.exited(), { code: 0, signal: null });
    return qm.raw.split("\n").filter((l) => l !== "");
  };

  it("start every line with the UTC time in ISO 8601, to the millisecond, by default", async () => {
    const before = Date.now();
    const lines = await run([]);
    assert.ok(lines.length >= 5, lines.join("\n"));
    for (const l of lines) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (start|status|send|alert|warning): /, l);
    const first = Date.parse(lines[0]!.slice(0, 24));
    assert.ok(first >= before - 1000 && first <= Date.now(), lines[0]);
    assert.ok(lines.some((l) => / status: local 0\/10 remote 0\/20$/.test(l)), "the queue manager's lines are stamped too");
  });

  it("--log tai64n stamps them as multilog does", async () => {
    const lines = await run(["--log", "tai64n"]);
    for (const l of lines) assert.match(l, /^@4000[0-9a-f]{20} \S/, l);
    const sec = Number(BigInt(`0x${lines[0]!.slice(1, 17)}`) - (1n << 62n) - 10n);
    assert.ok(Math.abs(sec - Date.now() / 1000) < 60, lines[0]);
  });

  it("--log none leaves them bare", async () => {
    const lines = await run(["--log=none"]);
    assert.ok(lines.includes("status: exiting"), lines.join("\n"));
    for (const l of lines) assert.match(l, /^(start|status|new|info|end|alert|warning|send): /, l);
  });

  it("warns when control/me has no dot", async () => {
    const lines = await run([], undefined, "vm");
    assert.ok(lines.some((l) => ISO.test(l) && / start: warning: control\/me is "vm", a name without a dot: .* qm init --me NAME --rename$/.test(l)), lines.join("\n"));
  });

  it("refuses an unknown --log with 100 and one line", async () => {
    const r = await runQm(["start", "--log", "local"], { env: { QMHOME: join(tempDir(), "nohome") } });
    assert.equal(r.code, 100);
    assert.equal(r.stderr.toString(), "qm start: fatal: --log takes iso, tai64n, none, not local. (#5.3.5)\n");
  });

  it("--syslog=SOCKET sends every line to a real rsyslogd, facility mail, and none to stdout", { skip: NO_RSYSLOG }, async () => {
    const dir = tempDir("qm-rsyslog-");
    const rs = await startRsyslog(dir);
    try {
      const logged = () => (existsSync(rs.log) ? readFileSync(rs.log, "latin1") : "");
      const lines = await run([`--syslog=${rs.socket}`], () => waitFor("send's first status line in syslog", () => (/status: local 0\/10/.test(logged()) ? true : null)));
      assert.deepEqual(lines, [], "nothing on stdout");
      const got = await waitFor("the lines in rsyslog's file", () => {
        const text = existsSync(rs.log) ? readFileSync(rs.log, "latin1") : "";
        return /qm\[\d+\]: start: all parts stopped$/m.test(text) ? text : null;
      }, 10_000);
      for (const want of [/ qm\[\d+\]: start: send started, pid \d+$/m, / qm\[\d+\]: status: local 0\/10 remote 0\/20$/m, / qm\[\d+\]: status: exiting$/m]) assert.match(got, want);
    } finally {
      await rs.stop();
    }
  });

  it("--syslog to a socket nobody listens on falls back to stdout and says why", async () => {
    const lines = await run([`--syslog=${join(tempDir(), "no-such-socket")}`]);
    assert.ok(lines.some((l) => / start: warning: no syslog socket at \S+no-such-socket; lines go to standard output$/.test(l)), lines.join("\n"));
    assert.ok(lines.some((l) => ISO.test(l) && / start: send started, pid \d+$/.test(l)), lines.join("\n"));
    assert.ok(lines.some((l) => ISO.test(l) && / status: exiting$/.test(l)), lines.join("\n"));
  });
});

describe("qm start --help", { timeout: 300_000 }, () => {
  it("documents the flags with examples", async () => {
    const r = await runQm(["start", "--help"]);
    assert.equal(r.code, 0);
    const text = r.stdout.toString();
    assert.match(text, /--listen/);
    assert.match(text, /EXAMPLES/);
    assert.match(text, /qm start --no-smtpd/);
  });
});

describe("nextDelay()", { timeout: 300_000 }, () => {
  const B = { firstMs: 1000, maxMs: 60_000, resetAfterMs: 30_000 };
  it("doubles while a part keeps dying soon, up to the maximum, and starts over after a long run", () => {
    const CASES = [
      [0, 0, 1000],
      [1000, 10, 2000],
      [2000, 29_999, 4000],
      [32_000, 10, 60_000],
      [60_000, 10, 60_000],
      [60_000, 30_000, 1000],
    ] as const;
    for (const [prev, ran, want] of CASES) assert.equal(nextDelay(prev, ran, B), want, `${prev} ${ran}`);
  });
});

describe("start()", { timeout: 300_000 }, () => {
  const sh = (script: string) => (p: Part) => spawn("sh", ["-c", script], { stdio: ["ignore", "pipe", "pipe"] });
  const fast = { firstMs: 20, maxMs: 80, resetAfterMs: 60_000 };

  it("starts a dying part again with growing pauses, and stops on term()", async () => {
    const lines: string[] = [];
    const h = start({ parts: [{ name: "flaky", argv: [] }], out: (l) => lines.push(l), backoff: fast, spawnPart: sh("echo out; echo err >&2; exit 3") });
    await waitFor("five restarts", () => (lines.filter((l) => l.startsWith("start: flaky exited with code 3")).length >= 5 ? true : null), 10_000);
    h.term();
    assert.deepEqual(await h.done, { kind: "ok", value: undefined });
    const pauses = lines.filter((l) => l.includes("starting it again")).map((l) => /in ([\d.]+) s/.exec(l)![1]);
    assert.deepEqual(pauses.slice(0, 5), ["0.02", "0.04", "0.08", "0.08", "0.08"]);
    assert.ok(lines.includes("flaky: out\n"), "stdout lines carry the part's name");
    assert.ok(lines.includes("flaky: err\n"), "stderr lines carry the part's name");
    assert.equal(lines.at(-1), "start: all parts stopped\n");
  });

  it("passes a raw log through unchanged and cuts an endless line into bounded pieces", async () => {
    const lines: string[] = [];
    const h = start({ parts: [{ name: "send", argv: [], rawStdout: true }], out: (l) => lines.push(l), backoff: { ...fast, firstMs: 60_000, maxMs: 60_000 }, spawnPart: sh("echo 'new msg 1'; head -c 100000 /dev/zero | tr '\\0' x; echo") });
    const xs = () => lines.filter((l) => /^x+\n$/.test(l)).reduce((n, l) => n + l.length - 1, 0);
    await waitFor("the whole line", () => (xs() === 100_000 ? true : null), 10_000);
    h.term();
    await h.done;
    assert.ok(lines.includes("new msg 1\n"));
    const long = lines.filter((l) => /^x+\n$/.test(l));
    assert.ok(long.length >= 6, `cut into pieces: ${long.length}`);
    assert.ok(long.every((l) => l.length <= 16 * 1024 + 1));
    assert.equal(long.reduce((n, l) => n + l.length - 1, 0), 100_000);
  });

  it("passes SIGHUP to every part, says so, and kills a part that ignores SIGTERM after the grace period", async () => {
    const dir = tempDir("qm-start-");
    const spawnPart = (p: Part) => spawn("sh", ["-c", `trap 'echo hup >> ${dir}/${p.name}' HUP; trap '' TERM; while :; do sleep 0.05; done`], { stdio: ["ignore", "pipe", "pipe"] });
    const lines: string[] = [];
    const h = start({ parts: [{ name: "send", argv: [] }, { name: "smtpd", argv: [] }], out: (l) => lines.push(l), spawnPart, graceMs: 500 });
    await new Promise((r) => setTimeout(r, 300));
    h.hup();
    await waitFor("send's and smtpd's HUP", () => (existsSync(join(dir, "send")) && existsSync(join(dir, "smtpd")) ? true : null), 5000);
    assert.ok(lines.includes("start: SIGHUP: passed to send, smtpd\n"), lines.join(""));
    const t = Date.now();
    h.term();
    await h.done;
    assert.ok(Date.now() - t >= 450, "waited for the grace period");
    assert.ok(lines.includes("start: send killed by SIGKILL\n"));
    assert.ok(lines.includes("start: smtpd killed by SIGKILL\n"));
  });

  it("reports a part that cannot be started and tries again", async () => {
    const lines: string[] = [];
    const h = start({ parts: [{ name: "ghost", argv: [] }], out: (l) => lines.push(l), backoff: fast, spawnPart: () => spawn("/nonexistent/qm", [], { stdio: ["ignore", "pipe", "pipe"] }) });
    await waitFor("two failures", () => (lines.filter((l) => l.includes("could not be started")).length >= 2 ? true : null), 5000);
    h.term();
    await h.done;
  });
});
