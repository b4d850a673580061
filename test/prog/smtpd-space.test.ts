import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, statfsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runQm } from "../support/qm.ts";
import { queued, smtpdHome } from "../support/smtpd.ts";
import { DEFAULT_DATABYTES } from "../../core/prog/init.ts";

// Issue 18 item 4: a size limit by default, and MAIL refused while the queue's
// disk is short of control/queuefree, before the client sends its message.

const ENV = { TCPREMOTEIP: "192.0.2.9", TCPLOCALIP: "192.0.2.1", TCPLOCALHOST: "mx.example.test" };
const replies = (out: Buffer) => out.toString("latin1").split("\r\n").filter((l) => /^\d{3} /.test(l));
const session = (home: string, input: string) => runQm(["smtpd"], { input: Buffer.from(input, "latin1"), env: { QMHOME: home, ...ENV } });
const MESSAGE = "EHLO client.test\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<postmaster@example.test>\r\nDATA\r\nSubject: s\r\n\r\nbody\r\n.\r\nQUIT\r\n";

describe("qm smtpd and the queue's disk", { timeout: 120_000 }, () => {
  it("qm init writes a databytes, and SIZE= over it is refused at MAIL with 552", async () => {
    const home = await smtpdHome();
    assert.equal(readFileSync(join(home, "control", "databytes"), "latin1"), `${DEFAULT_DATABYTES}\n`);
    const r = await session(home, `EHLO c\r\nMAIL FROM:<a@client.test> SIZE=${DEFAULT_DATABYTES + 1}\r\nMAIL FROM:<a@client.test> SIZE=${DEFAULT_DATABYTES}\r\nQUIT\r\n`);
    const lines = replies(r.stdout);
    assert.deepEqual(lines.map((l) => l.slice(0, 3)), ["220", "250", "552", "250", "221"], lines.join("\n"));
    assert.match(lines[2]!, /^552 5\.3\.4 sorry, that message size exceeds my databytes limit/);
  });

  it("refuses MAIL with 452 4.3.1 when the disk has less free than control/queuefree, and takes mail when it has more", async () => {
    const home = await smtpdHome();
    const st = statfsSync(join(home, "queue"));
    const free = Number(st.bavail) * Number(st.bsize);
    writeFileSync(join(home, "control", "queuefree"), `${free * 2}\n`); // more than this disk has
    const short = await session(home, MESSAGE);
    const lines = replies(short.stdout);
    assert.match(lines[2]!, /^452 4\.3\.1 insufficient system storage/, lines.join("\n"));
    assert.match(lines[3]!, /^503 /, "no recipient without a sender");
    assert.equal(queued(home).length, 0);
    writeFileSync(join(home, "control", "queuefree"), `${Math.floor(free / 1000)}\n`);
    const fine = await session(home, MESSAGE);
    assert.deepEqual(replies(fine.stdout).map((l) => l.slice(0, 3)), ["220", "250", "250", "250", "354", "250", "221"]);
    assert.equal(queued(home).length, 1);
  });
});
