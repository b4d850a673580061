import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { runQm, tempDir, type Run } from "../support/qm.ts";
import { control, isRoot, queued, smtpdHome } from "../support/smtpd.ts";

// qm smtpd's policy servers and milters (qm-smtpd(8), "Policy servers and
// milters") against real ones from Debian: postgrey (greylisting through the
// policy protocol), OpenDKIM (signs; dkimpy verifies) and rspamd as a
// milter (refuses GTUBE, adds its headers). Each daemon runs with a private
// configuration under the test's temporary directory, on a unix socket, and
// is stopped by its PID. Scripted milters and policy servers in this process
// act out every milter action and the hostile cases: a server that hangs,
// closes in the middle, or answers garbage or an oversized packet.

const has = (path: string) => existsSync(path);
const PY = "/usr/bin/python3";
const NO_POSTGREY = has("/usr/sbin/postgrey") ? false : "postgrey is not installed (scripts/apt-packages.txt)";
const NO_OPENDKIM = has("/usr/sbin/opendkim") && has("/usr/sbin/opendkim-genkey") ? false : "opendkim and opendkim-tools are not installed";
const NO_DKIMPY = spawnSync(PY, ["-c", "import dkim"], { timeout: 30_000 }).status === 0 ? false : "python3-dkim is not installed";
const NO_RSPAMD = has("/usr/bin/rspamd") ? false : "rspamd is not installed";
const T = { timeout: 120_000 };

interface Daemon {
  readonly child: ChildProcess;
  readonly output: () => string;
  stop(): Promise<void>;
}

/** Starts a daemon in the foreground and waits (at most `waitMs`) for its socket to appear. */
async function startDaemon(cmd: string, args: readonly string[], socket: string, waitMs: number): Promise<Daemon> {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (out += b.toString()));
  let exited = false;
  const gone = new Promise<void>((resolve) => child.once("exit", () => ((exited = true), resolve())));
  const stop = async () => {
    if (!exited) child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await gone;
    clearTimeout(timer);
  };
  const deadline = Date.now() + waitMs;
  while (!existsSync(socket)) {
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(`${cmd} did not make ${socket} within ${waitMs} ms: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, output: () => out, stop };
}

/** One SMTP session (CR LF, dot-stuffed), each RCPT a line. */
function transcript(from: string, rcpts: readonly string[], message: string, helo = "client.test"): string {
  const body = message.split("\n").map((l) => (l.startsWith(".") ? `.${l}` : l)).join("\r\n");
  return `EHLO ${helo}\r\nMAIL FROM:<${from}>\r\n${rcpts.map((r) => `RCPT TO:<${r}>\r\n`).join("")}DATA\r\n${body}\r\n.\r\nQUIT\r\n`;
}
const mail = (subject: string, extra: readonly string[] = [], body = "Hello there.") =>
  [...extra, "From: <a@example.test>", "To: <postmaster@example.test>", `Subject: ${subject}`, "Date: Sun, 6 Dec 2026 12:00:00 +0000", `Message-ID: <${subject}@example.test>`, "", body].join("\n");
const codes = (r: Run) => r.stdout.toString("latin1").split("\r\n").filter((l) => /^\d{3} /.test(l));
const arrived = (home: string, subject: string) => queued(home).find((m) => m.includes(`\nSubject: ${subject}\n`));

/** The envelope of the message queued as `msg ID` (the todo file: F sender, T recipients). */
function envelopeOf(home: string, r: Run): { sender: string; recipients: string[] } {
  const id = /msg (\d+)/.exec(r.stdout.toString())?.[1];
  assert.ok(id, r.stdout.toString());
  const fields = readFileSync(join(home, "queue", "todo", id)).toString("latin1").split("\0");
  return { sender: fields.find((f) => f.startsWith("F"))!.slice(1), recipients: fields.filter((f) => f.startsWith("T")).map((f) => f.slice(1)) };
}

describe("qm smtpd policy servers and milters", { timeout: 600_000 }, () => {
  let home: string;
  let dir: string;
  const smtpd = (input: string, ip = "192.0.2.9") => runQm(["smtpd"], { input: Buffer.from(input, "latin1"), env: { QMHOME: home, TCPREMOTEIP: ip, TCPLOCALIP: "192.0.2.1", TCPLOCALHOST: "mx.example.test" }, timeoutMs: 90_000 });
  const reset = () => {
    for (const f of ["milters", "policyservers"]) rmSync(join(home, "control", f), { force: true });
  };

  before(async () => {
    dir = tempDir("qm-filters-");
    home = await smtpdHome();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe("postgrey, a policy server", { skip: NO_POSTGREY, timeout: 120_000 }, () => {
    let pg: Daemon;
    before(async () => {
      const d = join(dir, "postgrey");
      mkdirSync(join(d, "db"), { recursive: true });
      for (const f of ["wc", "wr"]) writeFileSync(join(d, f), "");
      const user = isRoot ? ["--user=root", "--group=root"] : [];
      const args = [`--unix=${join(d, "sock")}`, `--dbdir=${join(d, "db")}`, "--delay=1", ...user, `--whitelist-clients=${join(d, "wc")}`, `--whitelist-recipients=${join(d, "wr")}`, "--auto-whitelist-clients=0", "--hostname=pg.test"];
      pg = await startDaemon("/usr/sbin/postgrey", args, join(d, "sock"), 30_000);
    });
    after(async () => {
      reset();
      await pg?.stop();
    });

    it("defers the first try of a triple with postgrey's text, takes the retry after the delay with its X-Greylist field", T, async () => {
      control(home, "policyservers", `unix:${join(dir, "postgrey", "sock")}:10:tempfail\n`);
      const first = await smtpd(transcript("a@sender.test", ["postmaster@example.test"], mail("greylisted")));
      assert.match(codes(first)[3] ?? "", /^450 4\.\d\.\d Greylisted/, first.stdout.toString());
      assert.match(first.stderr.toString(), /refused 192\.0\.2\.9 RCPT <postmaster@example\.test> from <a@sender\.test>: 450 /);
      assert.equal(arrived(home, "greylisted"), undefined);
      await new Promise((r) => setTimeout(r, 2100)); // postgrey --delay=1 counts whole seconds
      const retry = await smtpd(transcript("a@sender.test", ["postmaster@example.test"], mail("greylisted")));
      assert.deepEqual(codes(retry).map((l) => l.slice(0, 3)), ["220", "250", "250", "250", "354", "250", "221"], retry.stdout.toString() + retry.stderr.toString());
      assert.match(arrived(home, "greylisted") ?? "", /\nX-Greylist: delayed \d+ seconds by postgrey-[^\n]*\nReceived: from /, "PREPEND puts the field on top");
    });
  });

  describe("OpenDKIM, a signing milter", { skip: NO_OPENDKIM || NO_DKIMPY, timeout: 120_000 }, () => {
    let od: Daemon;
    let record = "";
    before(async () => {
      const d = join(dir, "opendkim");
      mkdirSync(d, { recursive: true });
      const g = spawnSync("/usr/sbin/opendkim-genkey", ["-D", d, "-d", "example.test", "-s", "sel1", "-b", "2048"], { timeout: 60_000 });
      assert.equal(g.status, 0, g.stderr?.toString());
      record = [...readFileSync(join(d, "sel1.txt"), "latin1").matchAll(/"([^"]*)"/g)].map((m) => m[1]).join("");
      const conf = ["Syslog no", "Domain example.test", "Selector sel1", `KeyFile ${join(d, "sel1.private")}`, `Socket local:${join(d, "sock")}`, "Canonicalization relaxed/relaxed", "Mode s", "RequireSafeKeys false", "Background no", ...(isRoot ? ["UserID root"] : [])];
      writeFileSync(join(d, "opendkim.conf"), `${conf.join("\n")}\n`);
      od = await startDaemon("/usr/sbin/opendkim", ["-f", "-x", join(d, "opendkim.conf")], join(d, "sock"), 30_000);
    });
    after(async () => {
      reset();
      await od?.stop();
    });

    it("signs a message from an internal client, and dkimpy verifies the signature with the test's key record", T, async () => {
      control(home, "milters", `unix:${join(dir, "opendkim", "sock")}:10:tempfail\n`);
      const r = await smtpd(transcript("a@example.test", ["postmaster@example.test"], mail("signed", [], "Hello.\n.dot line\n\nlast")), "127.0.0.1");
      assert.match(codes(r).join("\n"), /^250 2\.0\.0 ok/m, r.stdout.toString() + r.stderr.toString());
      const msg = arrived(home, "signed") ?? "";
      assert.match(msg, /\nDKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=example\.test;\n\ts=sel1;/);
      const py = "import sys, dkim\nrec = sys.argv[1].encode()\ndef dns(name, timeout=5):\n    return rec if name.rstrip(b'.').lower() == b'sel1._domainkey.example.test' else None\nprint(dkim.verify(sys.stdin.buffer.read(), dnsfunc=dns))\n";
      const v = spawnSync(PY, ["-c", py, record], { input: Buffer.from(msg, "latin1"), timeout: 30_000 });
      assert.equal(v.stdout.toString().trim(), "True", v.stderr.toString());
      const tampered = spawnSync(PY, ["-c", py, record], { input: Buffer.from(msg.replace("Hello.", "Hello!"), "latin1"), timeout: 30_000 });
      assert.equal(tampered.stdout.toString().trim(), "False");
    });
  });

  describe("rspamd in milter mode", { skip: NO_RSPAMD, timeout: 240_000 }, () => {
    let rs: Daemon;
    before(async () => {
      const d = join(dir, "rspamd");
      for (const sub of ["local.d", "db", "run", "log"]) mkdirSync(join(d, sub), { recursive: true });
      // the packaged configuration with a proxy worker only (milter, scanning itself) on a unix socket; DNS to a closed loopback port fails at once
      const conf = ['.include "$CONFDIR/common.conf"', "options {", '  pidfile = "$RUNDIR/rspamd.pid";', '  .include "$CONFDIR/options.inc"', '  .include(try=true; priority=1,duplicate=merge) "$LOCAL_CONFDIR/local.d/options.inc"', "}", 'logging { type = "file"; filename = "$LOGDIR/rspamd.log"; level = "info"; }', 'worker "rspamd_proxy" {', '  bind_socket = "$RUNDIR/proxy.sock mode=0666";', "  milter = yes;", "  timeout = 60s;", "  count = 1;", '  upstream "local" { default = yes; self_scan = yes; }', "}"];
      writeFileSync(join(d, "rspamd.conf"), `${conf.join("\n")}\n`);
      writeFileSync(join(d, "local.d", "options.inc"), 'dns { nameserver = ["127.0.0.1:1"]; timeout = 0.2s; retransmits = 1; }\ncontrol_socket = "$RUNDIR/control.sock mode=0600";\ntempdir = "$DBDIR";\n');
      writeFileSync(join(d, "local.d", "milter_headers.conf"), "extended_spam_headers = true;\n");
      const vars = ["LOCAL_CONFDIR", d, "DBDIR", join(d, "db"), "RUNDIR", join(d, "run"), "LOGDIR", join(d, "log")];
      const args = ["-f", "-i", ...(isRoot ? ["-u", "root", "-g", "root"] : []), "-c", join(d, "rspamd.conf"), ...vars.flatMap((v, i) => (i % 2 === 0 ? ["--var", `${v}=${vars[i + 1]}`] : []))];
      rs = await startDaemon("/usr/bin/rspamd", args, join(d, "run", "proxy.sock"), 150_000); // it loads its rules for 20 s or more
    });
    after(async () => {
      reset();
      await rs?.stop();
    });

    it("refuses the GTUBE test message after the final dot, queues nothing, and adds its headers to a clean message", T, async () => {
      control(home, "milters", `unix:${join(dir, "rspamd", "run", "proxy.sock")}:60:tempfail\n`);
      const gtube = await smtpd(transcript("a@example.test", ["postmaster@example.test"], mail("gtube", [], "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X")));
      assert.match(codes(gtube)[5] ?? "", /^554 5\.7\.1 /, gtube.stdout.toString() + gtube.stderr.toString());
      assert.match(gtube.stderr.toString(), /refused 192\.0\.2\.9 DATA from <a@example\.test> rcpts 1: 554 5\.7\.1 /);
      assert.equal(arrived(home, "gtube"), undefined);
      const clean = await smtpd(transcript("a@example.test", ["postmaster@example.test"], mail("clean")));
      assert.match(codes(clean).join("\n"), /^250 2\.0\.0 ok/m, clean.stdout.toString() + clean.stderr.toString());
      const msg = arrived(home, "clean") ?? "";
      assert.match(msg, /\nX-Spamd-Result: default: /);
      assert.match(msg, /\nX-Rspamd-Queue-Id: \d+\.\d+\n/, "the i macro");
      assert.match(msg, /\n\nHello there\.\n$/);
    });
  });

  describe("scripted milters: every action", { timeout: 120_000 }, () => {
    after(reset);
    it("header, sender, recipient and body changes, progress, and quarantine apply before the message is queued", T, async () => {
      const m = await fakeMilter(join(dir, "edit.sock"), (cmd, data) => {
        if (cmd !== "E") return [reply("c")];
        return [reply("h", "X-Added\0yes\0"), reply("i", idx(0, "X-Top\0first\0")), reply("m", idx(1, "Subject\0changed\0")), reply("m", idx(1, "X-Drop\0\0")), reply("e", "<new@example.test>\0"), reply("+", "<added@example.test>\0"), reply("-", "<postmaster@example.test>\0"), reply("p"), reply("b", "new body\r\n.line\r\n"), reply("q", "looks odd\0"), reply("c")];
      });
      try {
        control(home, "milters", `unix:${m.path}:5:tempfail\n`);
        const r = await smtpd(transcript("a@example.test", ["postmaster@example.test", "root@example.test"], mail("editme", ["X-Drop: this goes"])));
        assert.match(codes(r).join("\n"), /^250 2\.0\.0 ok/m, r.stdout.toString() + r.stderr.toString());
        const msg = queued(home).find((x) => x.includes("Subject: changed")) ?? "";
        assert.match(msg, /^Received: \(qmail [^\n]*\nX-Qm-Quarantine: looks odd\nX-Top: first\nReceived: from /);
        assert.doesNotMatch(msg, /X-Drop|Subject: editme/);
        assert.match(msg, /\nX-Added: yes\n\nnew body\n\.line\n$/);
        assert.deepEqual(envelopeOf(home, r), { sender: "new@example.test", recipients: ["root@example.test", "added@example.test"] });
        assert.match(r.stderr.toString(), /quarantine 192\.0\.2\.9: looks odd/);
        const seen = m.commands.join("");
        assert.match(seen, /^ODCHDMDRDRDTL{7}DNBDEQ$/, seen); // macros (D) before each stage (none for HELO without TLS), 7 header fields, quit
        assert.ok(m.macros.some((x) => x.includes("{daemon_name}\0qm-smtpd")) && m.macros.some((x) => x.includes("j\0example.test")));
        assert.match(m.bodies.join(""), /Hello there\.\r\n$/, "the body comes in CR LF");
      } finally {
        await m.close();
      }
    });

    it("a reply code refuses one recipient, tempfail refuses MAIL, discard takes the message and queues nothing", T, async () => {
      const picky = await fakeMilter(join(dir, "picky.sock"), (cmd, data) => (cmd === "R" && data.includes("root@") ? [reply("y", "550 5.7.1 not this one\0")] : [reply("c")]));
      const tempfail = await fakeMilter(join(dir, "tf.sock"), (cmd) => [reply(cmd === "M" ? "t" : "c")]);
      const discard = await fakeMilter(join(dir, "dis.sock"), (cmd) => [reply(cmd === "E" ? "d" : "c")]);
      try {
        control(home, "milters", `unix:${picky.path}\nunix:${discard.path}\n`);
        const before = queued(home).length;
        const r = await smtpd(transcript("a@example.test", ["root@example.test", "postmaster@example.test"], mail("discarded")));
        assert.deepEqual(codes(r), ["220 example.test ESMTP", "250 SMTPUTF8", "250 2.1.0 ok", "550 5.7.1 not this one", "250 2.1.5 ok", "354 go ahead, end with <CR><LF>.<CR><LF>", "250 2.0.0 ok", "221 2.0.0 example.test"]);
        assert.equal(queued(home).length, before);
        assert.match(r.stderr.toString(), /discarded 192\.0\.2\.9 by a filter: nothing queued/);
        control(home, "milters", `unix:${tempfail.path}\n`);
        const t = await smtpd(transcript("a@example.test", ["postmaster@example.test"], mail("tempfailed")));
        assert.equal(codes(t)[2], "451 4.7.1 a milter asks to try again later");
      } finally {
        await Promise.all([picky.close(), tempfail.close(), discard.close()]);
      }
    });
  });

  describe("hostile milters and policy servers", { timeout: 180_000 }, () => {
    after(reset);
    it("a milter that never answers gets its timeout, then its default action: tempfail at MAIL, or accept (mail flows unfiltered)", T, async () => {
      const hang = await fakeMilter(join(dir, "hang.sock"), () => "hang");
      try {
        control(home, "milters", `unix:${hang.path}:1:tempfail\n`);
        const r = await smtpd(transcript("a@example.test", ["postmaster@example.test"], mail("hung")));
        assert.equal(codes(r)[2], `451 4.7.1 the milter unix:${hang.path} is not available; try again later`);
        assert.match(r.stderr.toString(), new RegExp(`smtpd: warning: \\d+\\.\\d+ milter unix:${hang.path} at connect: no reply within 1 s; default action tempfail`));
        control(home, "milters", `unix:${hang.path}:1:accept\n`);
        const a = await smtpd(transcript("a@example.test", ["postmaster@example.test"], mail("hung-accept")));
        assert.match(codes(a).join("\n"), /^250 2\.0\.0 ok/m);
        assert.ok(arrived(home, "hung-accept"));
      } finally {
        await hang.close();
      }
    });

    it("a milter that closes in the middle of the message, or sends garbage or an oversized packet, gets its default action after the dot", T, async () => {
      const quitter = await fakeMilter(join(dir, "quit.sock"), (cmd) => (cmd === "B" ? "close" : [reply("c")]));
      const huge = await fakeMilter(join(dir, "huge.sock"), (cmd) => (cmd === "E" ? [Buffer.from([0xff, 0xff, 0xff, 0xf0, 0x62])] : [reply("c")]));
      const garbage = await fakeMilter(join(dir, "garbage.sock"), (cmd) => (cmd === "E" ? [reply("Z", "junk")] : [reply("c")]));
      const missing = join(dir, "nobody-here.sock");
      try {
        for (const [path, action, want] of [[quitter.path, "reject", /^554 5\.7\.1 the milter /], [huge.path, "tempfail", /^451 4\.7\.1 the milter /], [garbage.path, "reject", /^554 5\.7\.1 /]] as const) {
          control(home, "milters", `unix:${path}:5:${action}\n`);
          const r = await smtpd(transcript("a@example.test", ["postmaster@example.test"], mail("broken")));
          assert.match(codes(r)[5] ?? "", want, r.stdout.toString() + r.stderr.toString());
          assert.match(r.stderr.toString(), /smtpd: warning: \S+ milter unix:\S+ at (body|eom): /);
        }
        assert.equal(arrived(home, "broken"), undefined);
        control(home, "milters", `unix:${missing}:5:reject\n`);
        const down = await smtpd(transcript("a@example.test", ["postmaster@example.test"], mail("down")));
        assert.match(codes(down)[2] ?? "", /^554 5\.7\.1 the milter /);
        assert.match(down.stderr.toString(), /at connect: cannot connect: ENOENT; default action reject/);
      } finally {
        await Promise.all([quitter.close(), huge.close(), garbage.close()]);
      }
    });

    it("a policy server that hangs, closes, answers garbage, an endless line or an action qm does not carry out gets its default action", T, async () => {
      const behave = new Map<string, (s: Socket) => void>([
        ["hang", () => {}],
        ["close", (s) => s.destroy()],
        ["garbage", (s) => s.write("this is not a policy answer\n\n")],
        ["endless", (s) => s.write("action=".padEnd(20_000, "x"))],
        ["redirect", (s) => s.write("action=REDIRECT elsewhere@example.test\n\n")],
      ]);
      reset();
      const servers = await Promise.all([...behave].map(([name, f]) => fakeServer(join(dir, `p-${name}.sock`), (s) => s.once("data", () => f(s)))));
      try {
        for (const [i, name] of [...behave.keys()].entries()) {
          control(home, "policyservers", `unix:${servers[i]!.path}:1:${i % 2 === 0 ? "tempfail" : "reject"}\n`);
          const r = await smtpd(transcript("a@example.test", ["postmaster@example.test"], mail(`policy-${name}`)));
          assert.match(codes(r)[3] ?? "", i % 2 === 0 ? /^451 4\.7\.1 the policy server unix:\S+ is not available/ : /^554 5\.7\.1 the policy server /, `${name}: ${r.stdout}`);
          assert.match(r.stderr.toString(), /smtpd: warning: \S+ policy server unix:\S+: .*; default action /, name);
        }
        control(home, "policyservers", `unix:${servers[0]!.path}:1:accept\n`);
        const a = await smtpd(transcript("a@example.test", ["postmaster@example.test"], mail("policy-accept")));
        assert.match(codes(a).join("\n"), /^250 2\.0\.0 ok/m);
      } finally {
        await Promise.all(servers.map((s) => s.close()));
      }
    });

    it("a policy server asked at RCPT and END-OF-MESSAGE gets Postfix's attributes; PREPEND and a refusal after the dot are obeyed; RELAYCLIENT skips it", T, async () => {
      reset();
      const requests: Map<string, string>[] = [];
      const srv = await fakeServer(join(dir, "eom.sock"), (s) => {
        let buf = "";
        s.on("data", (b: Buffer) => {
          buf += b.toString("latin1");
          for (let end = buf.indexOf("\n\n"); end >= 0; end = buf.indexOf("\n\n")) {
            const req = new Map(buf.slice(0, end).split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] as [string, string]));
            buf = buf.slice(end + 2);
            requests.push(req);
            const eom = req.get("protocol_state") === "END-OF-MESSAGE";
            s.write(eom && req.get("sender") === "no@example.test" ? "action=REJECT 5.7.0 not after all\n\n" : eom ? "action=DUNNO\n\n" : "action=PREPEND X-Policy: seen\n\n");
          }
        });
      });
      try {
        control(home, "policyservers", `unix:${srv.path}:5:tempfail:rcpt,eom\n`);
        const r = await smtpd(transcript("yes@example.test", ["postmaster@example.test"], mail("policy-eom")));
        assert.match(codes(r).join("\n"), /^250 2\.0\.0 ok/m, r.stdout.toString() + r.stderr.toString());
        assert.match(arrived(home, "policy-eom") ?? "", /^Received: \(qmail [^\n]*\nX-Policy: seen\nReceived: from /);
        const [rcpt, eom] = requests;
        assert.deepEqual([rcpt?.get("request"), rcpt?.get("protocol_state"), rcpt?.get("protocol_name"), rcpt?.get("helo_name"), rcpt?.get("sender"), rcpt?.get("recipient"), rcpt?.get("client_address"), rcpt?.get("server_address")], ["smtpd_access_policy", "RCPT", "ESMTP", "client.test", "yes@example.test", "postmaster@example.test", "192.0.2.9", "192.0.2.1"]);
        assert.deepEqual([eom?.get("protocol_state"), eom?.get("recipient"), eom?.get("recipient_count")], ["END-OF-MESSAGE", "", "1"]);
        assert.ok(Number(eom?.get("size")) > 100);
        const no = await smtpd(transcript("no@example.test", ["postmaster@example.test"], mail("policy-eom-no")));
        assert.equal(codes(no)[5], "554 5.7.0 not after all");
        assert.equal(arrived(home, "policy-eom-no"), undefined);
        const asked = requests.length;
        const relay = await runQm(["smtpd"], { input: transcript("no@example.test", ["postmaster@example.test"], mail("policy-relay")), env: { QMHOME: home, TCPREMOTEIP: "192.0.2.9", RELAYCLIENT: "" }, timeoutMs: 90_000 });
        assert.match(codes(relay).join("\n"), /^250 2\.0\.0 ok/m);
        assert.equal(requests.length, asked, "not asked about a RELAYCLIENT");
      } finally {
        await srv.close();
      }
    });

    it("a bad line in control/milters makes the controls unreadable: 421 and a log line", T, async () => {
      control(home, "milters", "inet:localhost\n");
      const r = await smtpd("QUIT\r\n");
      assert.equal(codes(r)[0], "421 4.3.0 unable to read controls");
      assert.match(r.stderr.toString(), /control\/milters: not host:port or unix:\/path/);
    });
  });
});

/** A milter reply packet. */
function reply(cmd: string, data: string | Buffer = ""): Buffer {
  const d = typeof data === "string" ? Buffer.from(data, "latin1") : data;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(d.length + 1);
  return Buffer.concat([len, Buffer.from(cmd, "latin1"), d]);
}
const idx = (n: number, rest: string) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return Buffer.concat([b, Buffer.from(rest, "latin1")]);
};

interface Fake {
  readonly path: string;
  close(): Promise<void>;
}

function fakeServer(path: string, onConn: (s: Socket) => void): Promise<Fake & { server: Server }> {
  if (existsSync(path)) unlinkSync(path);
  const socks = new Set<Socket>();
  const server = createServer((s) => {
    socks.add(s);
    s.on("error", () => {});
    s.on("close", () => socks.delete(s));
    onConn(s);
  });
  return new Promise((resolve) =>
    server.listen(path, () =>
      resolve({ path, server, close: () => new Promise<void>((r) => { for (const s of socks) s.destroy(); server.close(() => r()); }) }),
    ),
  );
}

/**
 * A milter acted out by `script`: it answers the option negotiation with
 * every action and step (replies to all), then calls `script` for each
 * command but macros; "hang" answers nothing, "close" hangs up.
 */
async function fakeMilter(path: string, script: (cmd: string, data: string) => Buffer[] | "hang" | "close"): Promise<Fake & { commands: string[]; macros: string[]; bodies: string[] }> {
  const commands: string[] = [];
  const macros: string[] = [];
  const bodies: string[] = [];
  const f = await fakeServer(path, (s) => {
    let buf = Buffer.alloc(0);
    s.on("data", (b: Buffer) => {
      buf = Buffer.concat([buf, b]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
        const len = buf.readUInt32BE(0);
        const cmd = String.fromCharCode(buf[4]!);
        const data = buf.subarray(5, 4 + len).toString("latin1");
        buf = buf.subarray(4 + len);
        commands.push(cmd);
        if (cmd === "D") macros.push(data);
        if (cmd === "B") bodies.push(data);
        if (cmd === "D" || cmd === "A" || cmd === "Q") continue;
        const out = cmd === "O" && script(cmd, data) !== "hang" ? [reply("O", Buffer.concat([u32(6), u32(0x1ff), u32(0)]))] : script(cmd, data);
        if (out === "close") return s.destroy();
        if (out !== "hang") for (const p of out) s.write(p);
      }
    });
  });
  return { ...f, commands, macros, bodies };
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
