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

