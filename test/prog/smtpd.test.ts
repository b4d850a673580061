import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { qmCommand, ROOT, runQm } from "../support/qm.ts";
import { control, queued, smtpdHome, todoCount } from "../support/smtpd.ts";

const ENV = { TCPREMOTEIP: "192.0.2.9", TCPLOCALIP: "192.0.2.1", TCPLOCALHOST: "mx.example.test" };
const codes = (out: Buffer) => out.toString("latin1").split("\r\n").filter((l) => /^\d{3} /.test(l)).map((l) => l.slice(0, 3));
const session = (home: string, input: string, env: NodeJS.ProcessEnv = {}) => runQm(["smtpd"], { input: Buffer.from(input, "latin1"), env: { QMHOME: home, ...ENV, ...env } });

describe("qm smtpd (inetd mode)", { timeout: 300_000 }, () => {
  let shared = "";
  before(async () => {
    shared = await smtpdHome();
  });
  it("takes a pipelined transaction and queues the unstuffed message with its Received line", async () => {
    const home = shared;
    const r = await session(home, "EHLO c.test\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<postmaster@example.test>\r\nDATA\r\nSubject: p\r\n\r\n..x\r\n.\r\nQUIT\r\n");
    assert.deepEqual(codes(r.stdout), ["220", "250", "250", "250", "354", "250", "221"]);
    assert.equal(r.code, 0);
    const msg = queued(home).find((m) => m.includes("Subject: p"));
    assert.match(msg ?? "", /\nReceived: from unknown \(HELO c\.test\) \(192\.0\.2\.9\)\n  by mx\.example\.test with ESMTP; .*\nSubject: p\n\n\.x\n$/);
    assert.ok(todoCount(home) >= 1);
  });

  it("logs the session: connect, each refusal with its command and transaction, and the accepted message under the id its 250 names", async () => {
    const home = await smtpdHome(); // the queue is nobody's; as root this smtpd queues in-process and knows the id
    const long = `NOOP ${"x".repeat(5000)}`;
    const input = `EHLO c.test\r\nGET / HTTP/1.0\r\n${long}\r\nMAIL FROM:<a@bad domain>\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<victim@elsewhere.test>\r\nRCPT TO:<100%_x@elsewhere.test>\r\nDATA\r\nRCPT TO:<postmaster@example.test>\r\nDATA\r\nSubject: l\r\n\r\nx\r\n.\r\nAUTH PLAIN AGpvZQBzM2NyZXQ=\r\nQUIT\r\n`;
    const r = await session(home, input, { TCPREMOTEPORT: "50000", TCPLOCALPORT: "25" });
    const out = r.stdout.toString("latin1");
    const id = /^250 2\.0\.0 ok \d+ qp \d+ msg (\d+)\r$/m.exec(out)?.[1];
    assert.ok(id, out);
    assert.ok(queued(home).length === 1 && todoCount(home) === 1);
    const lines = r.stderr.toString("latin1").split("\n").filter((l) => l !== "").map((l) => l.replace(/^smtpd: \d+\.1 /, "smtpd: SID "));
    assert.deepEqual(lines, [
      "smtpd: SID connect 192.0.2.9 port 50000 to 192.0.2.1 port 25",
      "smtpd: SID refused 192.0.2.9 GET: 502 5.5.1 unimplemented",
      "smtpd: SID refused 192.0.2.9 (line too long): 500 5.5.2 line too long (limit 4096 bytes)",
      "smtpd: SID refused 192.0.2.9 MAIL <a@bad_domain>: 553 5.1.7 bad sender address: " + (/553 5\.1\.7 bad sender address: (.*)\r/.exec(out)?.[1] ?? "?"),
      "smtpd: SID refused 192.0.2.9 RCPT <victim@elsewhere.test> from <a@c.test>: 553 5.7.1 sorry, that domain isn't in my list of allowed rcpthosts",
      "smtpd: SID refused 192.0.2.9 RCPT <100__x@elsewhere.test> from <a@c.test>: 553 5.7.1 sorry, _ in the local part is not accepted here (no relaying)",
      "smtpd: SID refused 192.0.2.9 DATA from <a@c.test> rcpts 0: 503 5.5.1 RCPT first",
      `smtpd: SID accepted 192.0.2.9 msg ${id} from <a@c.test> rcpts 1`,
      "smtpd: SID refused 192.0.2.9 AUTH: 502 5.5.1 unimplemented",
    ]);
    assert.doesNotMatch(r.stderr.toString(), /AGpvZQBzM2NyZXQ/, "no credentials in the log");
  });

  it("answers a bare LF in the data with 451, queues nothing, and hangs up", async () => {
    const home = shared;
    const before = queued(home).length;
    const r = await session(home, "HELO c\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<postmaster@example.test>\r\nDATA\r\nx\r\n\n.\nMAIL FROM:<b@c.test>\r\nRCPT TO:<postmaster@example.test>\r\nDATA\r\ny\r\n.\r\n");
    assert.deepEqual(codes(r.stdout), ["220", "250", "250", "250", "354", "451"]);
    assert.match(r.stdout.toString(), /451 4\.5\.0 bare LF/);
    assert.equal(queued(home).length, before);
  });

  it("refuses a message over databytes with 552, then takes the next one", async () => {
    const home = await smtpdHome();
    control(home, "databytes", "50\n");
    const tx = (body: string) => `MAIL FROM:<a@c.test>\r\nRCPT TO:<postmaster@example.test>\r\nDATA\r\n${body}.\r\n`;
    const r = await session(home, `HELO c\r\n${tx(`${"x".repeat(80)}\r\n`)}${tx("small\r\n")}QUIT\r\n`);
    assert.deepEqual(codes(r.stdout), ["220", "250", "250", "250", "354", "552", "250", "250", "354", "250", "221"]);
    assert.equal(queued(home).length, 1);
  });

  it("refuses a looping message (100 Received lines) with 554", async () => {
    const home = shared;
    const before = queued(home).length;
    const r = await session(home, `HELO c\r\nMAIL FROM:<>\r\nRCPT TO:<postmaster@example.test>\r\nDATA\r\n${"Received: x\r\n".repeat(100)}\r\nb\r\n.\r\n`);
    assert.equal(codes(r.stdout).at(-1), "554");
    assert.equal(queued(home).length, before);
  });

  it("rejects unknown local recipients at RCPT with 550, unless control/rcptcheck is 0", async () => {
    const home = await smtpdHome();
    const input = "HELO c\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<nosuchuser@example.test>\r\nRCPT TO:<postmaster@example.test>\r\nRCPT TO:<someone@elsewhere.test>\r\n";
    assert.deepEqual(codes((await session(home, input, { RELAYCLIENT: "" })).stdout), ["220", "250", "250", "550", "250", "250"]);
    control(home, "rcptcheck", "0\n");
    assert.deepEqual(codes((await session(home, input, { RELAYCLIENT: "" })).stdout), ["220", "250", "250", "250", "250", "250"]);
    control(home, "rcptcheck", "1\n");
    writeFileSync(join(home, "alias", ".qmail-default"), "./Maildir/\n");
    assert.deepEqual(codes((await session(home, input, { RELAYCLIENT: "" })).stdout), ["220", "250", "250", "250", "250", "250"]);
  });

  it("honours badmailfrom and RELAYCLIENT from the environment", async () => {
    const home = shared;
    control(home, "badmailfrom", "@spam.test\n");
    const r = await session(home, "HELO c\r\nMAIL FROM:<x@Spam.test>\r\nRCPT TO:<postmaster@example.test>\r\nRSET\r\nMAIL FROM:<ok@c.test>\r\nRCPT TO:<v@elsewhere.test>\r\n");
    assert.deepEqual(codes(r.stdout), ["220", "250", "250", "553", "250", "250", "553"]);
    const relay = await session(home, "HELO c\r\nMAIL FROM:<ok@c.test>\r\nRCPT TO:<v@elsewhere.test>\r\n", { RELAYCLIENT: "" });
    assert.deepEqual(codes(relay.stdout), ["220", "250", "250", "250"]);
  });

  it("says 421 to a client that sends nothing, after timeoutsmtpd", async () => {
    const home = await smtpdHome();
    control(home, "timeoutsmtpd", "1\n");
    const { cmd, args } = qmCommand();
    const child = spawn(cmd, [...args, "smtpd"], { cwd: ROOT, env: { ...process.env, QMHOME: home, ...ENV }, stdio: ["pipe", "pipe", "ignore"] });
    let out = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    const started = Date.now();
    const code = await new Promise((r) => child.on("exit", r));
    child.stdin.destroy();
    assert.equal(code, 0);
    assert.match(out, /^220 .*\r\n421 4\.4\.2 timeout/);
    assert.ok(Date.now() - started < 15_000);
  });

  it("answers 421 when the controls cannot be read", async () => {
    const home = await smtpdHome();
    control(home, "me", "");
    control(home, "smtpgreeting", "");
    const r = await session(home, "HELO c\r\n");
    assert.match(r.stdout.toString(), /^421 4\.3\.0 unable to read controls/);
  });

  it("survives a command line far over the limit", async () => {
    const home = shared;
    const r = await session(home, `${"A".repeat(100_000)}\r\nNOOP\r\nQUIT\r\n`);
    assert.deepEqual(codes(r.stdout), ["220", "500", "250", "221"]);
  });
});

