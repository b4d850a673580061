import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { statSync, writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { runQm } from "../support/qm.ts";
import { Client, control, isRoot, NOBODY, queued, smtpdHome, startListener, type Running } from "../support/smtpd.ts";
import { NO_DNSMASQ, startDnsmasq, type Dnsmasq } from "../support/dnsmasq.ts";
import { startDnsServer, type DnsServer } from "../support/dns-server.ts";
import { tempDir } from "../support/qm.ts";

// The listener's defences (qm-smtpd(8): "DNS lists", "Pregreet", "Rate
// limits", "Greylisting", "The recipient check") through the real qm smtpd
// --listen and real sockets: Debian's dnsmasq on loopback serves the DNS
// lists (127.0.0.1 listed in bl.test, not in clean.test), a DNS server of
// our own never answers (hang.test). Control files change between tests
// and are read again within a second, without a restart.

let home = "";
let qm: Running;
let dns: Dnsmasq;
let hang: DnsServer;
let log = "";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Writes control files (null: removes one), then waits until the listener has read them again. */
async function controls(files: Record<string, string | null>): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    if (text === null) rmSync(join(home, "control", name), { force: true });
    else control(home, name, text);
  }
  await sleep(1100);
}

/** The listener's log has a line matching `re` (it may come a moment after the reply). */
async function logged(re: RegExp): Promise<void> {
  for (let i = 0; i < 50 && !re.test(log); i++) await sleep(100);
  assert.match(log, re);
}

async function listen(): Promise<void> {
  qm = await startListener(home, ["--listen", "127.0.0.1:0", "--max-per-ip", "100"]);
  qm.child.stderr!.on("data", (b: Buffer) => (log += b.toString()));
}

/** EHLO, MAIL, then each RCPT; the replies' first lines. */
async function rcpts(to: readonly string[], from = "s@sender.test"): Promise<string[]> {
  const c = await Client.open(qm.ports[0]!);
  await c.replies(1);
  c.send(`EHLO client.test\r\nMAIL FROM:<${from}>\r\n${to.map((t) => `RCPT TO:<${t}>\r\n`).join("")}QUIT\r\n`);
  const got = await c.replies(3 + to.length, 20_000);
  c.sock.destroy();
  return got.slice(2, 2 + to.length);
}

describe("qm smtpd --listen: DNS lists, pregreet, rate limits, greylisting, catch-all", { timeout: 300_000, skip: NO_DNSMASQ }, () => {
  before(async () => {
    home = await smtpdHome();
    writeFileSync(join(home, "alias", ".qmail-joe"), "./Maildir/\n");
    dns = await startDnsmasq(tempDir("qm-dnsbl-"), {
      a: [["1.0.0.127.bl.test", "127.0.0.2"], ["1.0.0.127.txt.test", "127.0.0.3"], ["1.0.0.127.wl.test", "127.0.0.5"], ["1.0.0.127.garbage.test", "8.8.8.8"], ["1.0.0.127.refused.test", "127.255.255.254"]],
      txt: [["1.0.0.127.txt.test", "Listed by txt.test, see http://txt.test/127.0.0.1"]],
    });
    hang = await startDnsServer(new Map([["1.0.0.127.hang.test", { behave: "drop" as const }]]));
    control(home, "resolvers", `127.0.0.1:${dns.port}\n`);
    await listen();
  });
  after(async () => {
    await qm?.stop();
    await dns?.stop();
    await hang?.close();
  });

  it("refuses a listed client at RCPT with the zone's text, but lets postmaster through", async () => {
    await controls({ dnsbl: "bl.test:1:Your address is on the test list\n" });
    const got = await rcpts(["joe@example.test", "postmaster@example.test"]);
    assert.deepEqual(got, ["554 5.7.1 Your address is on the test list", "250 2.1.5 ok"]);
    await logged(/smtpd: \S+ dnsbl 127\.0\.0\.1 bl\.test score 1\n/);
    await logged(/refused 127\.0\.0\.1 RCPT <joe@example\.test> from <s@sender\.test>: 554 5\.7\.1 Your address is on the test list/);
  });

  it("says the zone's TXT record when the line gives no text", async () => {
    await controls({ dnsbl: "txt.test\n" });
    assert.deepEqual(await rcpts(["joe@example.test"]), ["554 5.7.1 Listed by txt.test, see http://txt.test/127.0.0.1"]);
  });

  it("takes a message from a client the zone does not list", async () => {
    await controls({ dnsbl: "clean.test\n" });
    const c = await Client.open(qm.ports[0]!);
    await c.replies(1);
    c.send("EHLO client.test\r\nMAIL FROM:<s@sender.test>\r\nRCPT TO:<joe@example.test>\r\nDATA\r\n");
    const got = await c.replies(4); // the data waits for the 354, as a real client's does
    c.send("Subject: unlisted\r\n\r\nhi\r\n.\r\nQUIT\r\n");
    got.push(...(await c.replies(2)));
    assert.deepEqual(got.map((l) => l.slice(0, 3)), ["250", "250", "250", "354", "250", "221"]);
    assert.ok(queued(home).some((m) => m.includes("Subject: unlisted")));
  });

  it("lets a client in control/dnswl past control/dnsbl", async () => {
    await controls({ dnsbl: "bl.test\n", dnswl: "wl.test\n" });
    assert.deepEqual(await rcpts(["joe@example.test"]), ["250 2.1.5 ok"]);
    await logged(/dnswl 127\.0\.0\.1 wl\.test score 1\n/);
    await controls({ dnswl: null });
  });

  it("takes garbage answers and refused queries as not listed, and logs why", async () => {
    await controls({ dnsbl: "garbage.test\nrefused.test\n" });
    assert.deepEqual(await rcpts(["joe@example.test"]), ["250 2.1.5 ok"]);
    await logged(/warning: \S+ dns list garbage\.test for 127\.0\.0\.1: answer outside 127\.0\.0\.0\/8 \(8\.8\.8\.8\); taken as not listed/);
    await logged(/warning: \S+ dns list refused\.test for 127\.0\.0\.1: the zone refused the query/);
  });

  it("accepts when the list's server never answers, within the lookup's time limit", async () => {
    await controls({ dnsbl: "hang.test\n", resolvers: `127.0.0.1:${hang.port}\n` });
    const started = Date.now();
    const got = await rcpts(["joe@example.test"]);
    const took = Date.now() - started;
    await controls({ resolvers: `127.0.0.1:${dns.port}\n` });
    assert.deepEqual(got, ["250 2.1.5 ok"]);
    assert.ok(took < 15_000, `${took} ms`);
    await logged(/warning: \S+ dns list hang\.test for 127\.0\.0\.1: (timed out|no answer within 4 seconds); taken as not listed/);
  });

  it("logs malformed control lines once, and keeps the good ones in force", async () => {
    await controls({ dnsbl: "not a zone\nbl.test:1:still refused\n", ratelimits: "messages:lots\n", greetdelay: "soon\n" });
    assert.deepEqual(await rcpts(["joe@example.test"]), ["554 5.7.1 still refused"]);
    await rcpts(["joe@example.test"]);
    assert.equal(log.match(/warning: control\/dnsbl line 1: "not a zone" is not a DNS zone; line ignored/g)?.length, 1);
    await logged(/warning: control\/ratelimits line 1: the limit of messages must be a number from 0 to 1000000; line ignored/);
    await logged(/warning: control\/greetdelay: "soon" is not a number of seconds; no delay/);
    await controls({ dnsbl: null, ratelimits: null, greetdelay: null });
  });

  it("refuses a client that talks before the greeting (control/greetdelay)", async () => {
    await controls({ greetdelay: "1\n" });
    const rude = await Client.open(qm.ports[0]!);
    rude.send("EHLO rude.test\r\n");
    assert.deepEqual(await rude.replies(1), ["554 5.5.1 protocol error: you talked before my greeting"]);
    rude.sock.destroy();
    const started = Date.now();
    const polite = await Client.open(qm.ports[0]!);
    assert.match((await polite.replies(1))[0]!, /^220 /);
    assert.ok(Date.now() - started >= 900);
    polite.sock.destroy();
    await logged(/dropped 127\.0\.0\.1: 554 5\.5\.1 protocol error: you talked before my greeting/);
    await controls({ greetdelay: null });
  });

  it("answers 450 to a client over its message rate, and 421 over its connection rate", async () => {
    await controls({ ratelimits: "messages:2\n" });
    const c = await Client.open(qm.ports[0]!);
    await c.replies(1);
    const tx = "MAIL FROM:<s@sender.test>\r\nRSET\r\n";
    c.send(`EHLO client.test\r\n${tx}${tx}${tx}QUIT\r\n`);
    const got = await c.replies(8);
    assert.deepEqual(got.slice(1, 7).filter((_, i) => i % 2 === 0), ["250 2.1.0 ok", "250 2.1.0 ok", "450 4.7.1 too many messages from 127.0.0.1 (limit 2 a minute); try again later"]);
    await logged(/refused 127\.0\.0\.1 MAIL <s@sender\.test>: 450 4\.7\.1 too many messages/);
    await controls({ ratelimits: "connections:2\n" });
    const open = [await Client.open(qm.ports[0]!), await Client.open(qm.ports[0]!)];
    for (const o of open) assert.match((await o.replies(1))[0]!, /^220 /);
    const third = await Client.open(qm.ports[0]!);
    assert.deepEqual(await third.replies(1), ["421 4.7.0 too many connections from 127.0.0.1 (limit 2 a minute); try again later"]);
    for (const o of [...open, third]) o.sock.destroy();
    await controls({ ratelimits: null });
  });

  it("greylists a new triple, takes the retry after the delay, and remembers it across a restart", async () => {
    await controls({ greylist: "delay:2\nlifetime:600\n" });
    const first = await rcpts(["joe@example.test"], "grey@sender.test");
    assert.match(first[0]!, /^451 4\.7\.1 greylisted: .*try again in 2 seconds$/);
    assert.match((await rcpts(["joe@example.test"], "grey@sender.test"))[0]!, /^451 4\.7\.1 /);
    await sleep(2100);
    assert.deepEqual(await rcpts(["joe@example.test", "postmaster@example.test"], "grey@sender.test"), ["250 2.1.5 ok", "451 4.7.1 greylisted: this is the first attempt from your network for this sender and recipient; try again in 2 seconds"]);
    const dir = statSync(join(home, "greylist"));
    if (isRoot) assert.equal(dir.uid, NOBODY);
    await qm.stop();
    await listen();
    assert.deepEqual(await rcpts(["joe@example.test"], "grey@sender.test"), ["250 2.1.5 ok"]);
  });

  it("does not greylist a client in control/dnswl", async () => {
    await controls({ dnswl: "wl.test\n" });
    assert.deepEqual(await rcpts(["joe@example.test"], "new@sender.test"), ["250 2.1.5 ok"]);
    await controls({ dnswl: null, greylist: null });
  });

  it("refuses an unknown local part with 550 even with the fastforward catch-all installed", async () => {
    writeFileSync(join(home, "aliases"), "known: joe@example.test\n@lists.example.test: joe\n");
    control(home, "aliases", `${join(home, "aliases")}\n`);
    const made = await runQm(["newaliases"], { env: { ...process.env, QMHOME: home } });
    assert.equal(made.code, 0, made.stderr.toString());
    writeFileSync(join(home, "alias", ".qmail-default"), "| qm fastforward -d\n");
    await sleep(1100);
    assert.deepEqual(await rcpts(["known@example.test", "Known@EXAMPLE.test", "unknown@example.test", "joe@example.test"]), ["250 2.1.5 ok", "250 2.1.5 ok", "550 5.1.1 sorry, no mailbox here by that name", "250 2.1.5 ok"]);
    writeFileSync(join(home, "alias", ".qmail-default"), "| qm fastforward -pd\n./Maildir/\n");
    assert.deepEqual(await rcpts(["unknown@example.test"]), ["250 2.1.5 ok"]); // -p: the next line takes it
  });
});
