import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runQm } from "../support/qm.ts";
import { queued, smtpdHome } from "../support/smtpd.ts";

// Issue 15 item 4: a null client's postmaster notices come from qm's
// double-bounce sender "#@[]" (as qmail-send's); a qm hub must take it at
// MAIL FROM through a real `qm smtpd` session, and nothing else with "[]".

const ENV = { TCPREMOTEIP: "192.0.2.9", TCPLOCALIP: "192.0.2.1", TCPLOCALHOST: "mx.example.test" };
const replies = (out: Buffer) => out.toString("latin1").split("\r\n").filter((l) => /^\d{3} /.test(l));
const session = (home: string, input: string) => runQm(["smtpd"], { input: Buffer.from(input, "latin1"), env: { QMHOME: home, ...ENV } });

/** The senders (F field) of every envelope in queue/todo (a flat directory). */
function todoSenders(home: string): string[] {
  const dir = join(home, "queue", "todo");
  return readdirSync(dir).map((f) => readFileSync(join(dir, f), "latin1").split("\0").find((field) => field.startsWith("F"))?.slice(1) ?? "?");
}

describe("qm smtpd and the double-bounce sender #@[]", { timeout: 60_000 }, () => {
  it("takes MAIL FROM:<#@[]> and queues the notice with that sender", async () => {
    const home = await smtpdHome();
    const r = await session(home, "EHLO client.test\r\nMAIL FROM:<#@[]>\r\nRCPT TO:<postmaster@example.test>\r\nDATA\r\nSubject: failure notice\r\n\r\nbody\r\n.\r\nQUIT\r\n");
    assert.deepEqual(replies(r.stdout).map((l) => l.slice(0, 3)), ["220", "250", "250", "250", "354", "250", "221"], r.stdout.toString());
    assert.equal(queued(home).filter((m) => m.includes("Subject: failure notice")).length, 1);
    assert.deepEqual(todoSenders(home), ["#@[]"]);
  });

  it("still refuses other empty literals at MAIL and #@[] as a recipient", async () => {
    const home = await smtpdHome();
    const r = await session(home, "HELO c\r\nMAIL FROM:<a@[]>\r\nMAIL FROM:<#@[]x>\r\nMAIL FROM:<##@[]>\r\nMAIL FROM:<#@[]>\r\nRCPT TO:<#@[]>\r\nQUIT\r\n");
    const lines = replies(r.stdout);
    assert.deepEqual(lines.map((l) => l.slice(0, 3)), ["220", "250", "553", "553", "553", "250", "553", "221"], lines.join("\n"));
    assert.match(lines[2]!, /bad sender address: malformed address literal/);
    assert.match(lines[6]!, /bad recipient address: malformed address literal/);
    assert.equal(queued(home).length, 0);
  });
});
