import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { Client, control, smtpdHome, startListener, type Running } from "../support/smtpd.ts";

// Slow clients against a real listener (qm-smtpd(8): timeoutcommand,
// mindatarate, timeoutbusy): a command that dribbles in, message data below
// the minimum rate, and 60 slow connections from six loopback addresses that
// fill the session table while a normal client still gets served.
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A client bound to `from` (any 127/8 address is loopback on Linux). */
function openFrom(port: number, from: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: "127.0.0.1", localAddress: from }, () => resolve(new Client(s)));
    s.once("error", reject);
  });
}

async function dribble(c: Client, text: string, everyMs: number): Promise<void> {
  for (const ch of text) {
    if (c.closed) return;
    c.send(ch);
    await sleep(everyMs);
  }
}

describe("qm smtpd: slow clients", { timeout: 300_000 }, () => {
  let home = "";
  let l: Running;
  let port = 0;
  before(async () => {
    home = await smtpdHome();
    control(home, "mindatarate", "200:1\n");
    control(home, "timeoutbusy", "3\n");
    l = await startListener(home, ["--listen", "127.0.0.1:0", "--max", "40", "--max-per-ip", "10"]);
    port = l.ports[0]!;
  });
  after(async () => {
    await l?.stop();
    if (home) rmSync(join(home, ".."), { recursive: true, force: true });
  });

  it("60 slow connections from six addresses fill the table; a normal client is still served, at once, and a stalled one gives its place up", { timeout: 120_000 }, async () => {
    const slow: Client[] = [];
    const refused: string[] = [];
    for (let a = 2; a <= 7; a++) {
      for (let i = 0; i < 10; i++) {
        const c = await openFrom(port, `127.0.0.${a}`);
        const first = (await c.replies(1, 5000))[0] ?? "";
        if (first.startsWith("220")) slow.push(c);
        else refused.push(first);
      }
    }
    assert.equal(slow.length, 40, "the table is full");
    assert.equal(refused.length, 20);
    assert.match(refused[0]!, /^421 4\.3\.2 too many sessions/);
    // the slow ones dribble a command that never ends, a byte every 300 ms (timeoutcommand is 5 minutes)
    let stop = false;
    const dribbling = Promise.all(slow.map(async (c) => {
      for (let i = 0; i < 100 && !stop && !c.closed; i++) {
        c.send("X");
        await sleep(300);
      }
    }));
    const fresh: Client[] = [];
    for (let a = 2; a <= 4; a++) fresh.push(await openFrom(port, `127.0.0.${a + 10}`));
    await sleep(3500); // longer than timeoutbusy: the slow ones are stalled now
    const started = Date.now();
    const normal = await Client.open(port);
    const greeting = (await normal.replies(1, 5000))[0] ?? "";
    assert.match(greeting, /^220 /, "a place was made");
    normal.send("HELO x\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<postmaster@example.test>\r\nDATA\r\n");
    await normal.replies(4, 5000);
    normal.send("Subject: normal\r\n\r\nhi\r\n.\r\nQUIT\r\n");
    const done = await normal.replies(2, 5000);
    assert.match(done.join("\n"), /^250 2\.0\.0 ok/m);
    assert.ok(Date.now() - started < 15_000, "served within seconds");
    stop = true;
    await dribbling;
    const kicked = slow.filter((c) => c.closed).length;
    assert.ok(kicked >= 1, "a stalled session gave its place up");
    const notes = l.log().split("\n").filter((x) => !/ connect /.test(x)).join("\n");
    assert.match(notes, /dropped .*421 4\.3\.2 too busy: closing this session, which waited \d+ s on its client \(timeoutbusy\)/);
    for (const c of [...slow, ...fresh, normal]) c.sock.destroy();
    control(home, "timeoutcommand", "2\n");
    await sleep(1500); // the listener reads the controls again at most once a second
  });
  it("a command line not finished within timeoutcommand gets 421 and is logged; a slow but whole command is served", { timeout: 60_000 }, async () => {
    const c = await Client.open(port);
    assert.match((await c.replies(1))[0]!, /^220 /);
    await dribble(c, "NOOP\r\n", 150); // under a second in all
    assert.match((await c.replies(1))[0]!, /^250 /);
    c.send("EHL");
    await sleep(1000);
    c.send("O");
    const r = await c.replies(1, 10_000);
    assert.deepEqual(r, ["421 4.4.2 command not finished within 2 s (timeoutcommand), closing connection"]);
    await sleep(200);
    assert.ok(c.closed, "the session is closed");
    assert.match(l.log(), /dropped .*421 4\.4\.2 command not finished within 2 s/);
  });

  it("message data below mindatarate gets 421 after the grace window; data at a fair rate is taken", { timeout: 60_000 }, async () => {
    const c = await Client.open(port);
    await c.replies(1);
    c.send("HELO x\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<postmaster@example.test>\r\nDATA\r\n");
    assert.match((await c.replies(4)).join("\n"), /^354 /m);
    for (let i = 0; i < 20 && !c.closed; i++) {
      c.send("Subject: slow\r\n".slice(0, 8));
      await sleep(400); // 20 bytes a second against 200
    }
    const r = await c.replies(1, 10_000);
    assert.deepEqual(r, ["421 4.4.2 message data slower than 200 bytes a second (mindatarate), closing connection"]);
    assert.match(l.log(), /dropped .*mindatarate/);
    const ok = await Client.open(port);
    await ok.replies(1);
    ok.send("HELO x\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<postmaster@example.test>\r\nDATA\r\n");
    await ok.replies(4);
    for (let i = 0; i < 6; i++) {
      ok.send(`X-Line-${i}: ${"x".repeat(300)}\r\n`);
      await sleep(400); // ~750 bytes a second, with pauses
    }
    ok.send("\r\nbody\r\n.\r\nQUIT\r\n");
    assert.match((await ok.replies(2)).join("\n"), /^250 2\.0\.0 ok/m);
  });

});
