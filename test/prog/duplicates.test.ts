import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { makeHome, runQm, runQueue } from "../support/qm.ts";
import { smtpdHome } from "../support/smtpd.ts";

// Issue 18 item 3: a recipient named twice in one message is one delivery, at
// RCPT, in qm inject and in the queue; so 1000 RCPTs of one address cannot
// turn one message into 1000 copies in one Maildir.

/** The recipients (T fields) of each envelope in queue/todo. */
function todoRecipients(home: string): string[][] {
  const dir = join(home, "queue", "todo");
  return readdirSync(dir).map((f) => readFileSync(join(dir, f), "latin1").split("\0").filter((x) => x.startsWith("T")).map((x) => x.slice(1)));
}

describe("one copy per recipient", { timeout: 120_000 }, () => {
  it("qm smtpd: 1000 RCPTs of one address (the domain in any case) are one recipient", async () => {
    const home = await smtpdHome();
    const rcpts = Array.from({ length: 1000 }, (_, i) => `RCPT TO:<postmaster@${i % 3 ? "example.test" : "EXAMPLE.test"}>\r\n`).join("");
    const input = `EHLO client.test\r\nMAIL FROM:<a@client.test>\r\n${rcpts}RCPT TO:<Postmaster@example.test>\r\nDATA\r\nSubject: many\r\n\r\nbody\r\n.\r\nQUIT\r\n`;
    const r = await runQm(["smtpd"], { input: Buffer.from(input, "latin1"), env: { QMHOME: home, TCPREMOTEIP: "192.0.2.9", TCPLOCALIP: "192.0.2.1", TCPLOCALHOST: "mx.example.test" } });
    const codes = r.stdout.toString("latin1").split("\r\n").filter((l) => /^\d{3} /.test(l)).map((l) => l.slice(0, 3));
    assert.equal(codes.length, 1007, r.stdout.toString().slice(-500));
    assert.deepEqual(new Set(codes.slice(1, 1004)), new Set(["250"]));
    assert.deepEqual(codes.slice(1004), ["354", "250", "221"]);
    assert.deepEqual(todoRecipients(home), [["postmaster@EXAMPLE.test", "Postmaster@example.test"]], "the first spelling");
  });

  it("qm inject and qm queue keep the first of each recipient, in order", async () => {
    const home = await makeHome("example.test");
    const inj = await runQm(["inject", "-f", "s@example.test", "--", "bob@far.test", "bob@FAR.test", "ann@far.test", "bob@far.test"], { input: "Subject: x\n\nhi\n", env: { QMHOME: home } });
    assert.equal(inj.code, 0, inj.stderr.toString());
    const q = await runQueue("Subject: y\n\nhi\n", "Fs@example.test\0Tcarl@far.test\0Tcarl@Far.Test\0\0", { QMHOME: home });
    assert.equal(q.code, 0, q.stderr);
    assert.deepEqual(todoRecipients(home).sort((a, b) => a.length - b.length), [["carl@far.test"], ["bob@far.test", "ann@far.test"]]);
  });
});
