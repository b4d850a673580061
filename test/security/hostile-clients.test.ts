import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fastQm, runQm, tempDir } from "../support/qm.ts";
import { Client, control, queued, smtpdHome, startListener, type Running } from "../support/smtpd.ts";

// The hostile-client table (SECURITY.md): a real `qm smtpd --listen` on
// 127.0.0.1, one fresh connection a row, each row asserting the reply qm
// gives. QM_HOSTILE_TABLE=docs/hostile-clients.md writes the table with the
// replies actually seen (how docs/hostile-clients.md is made).

interface Row {
  readonly group: string;
  readonly what: string;
  /** Bytes sent after the greeting: the commands up to DATA at once (qm smtpd offers PIPELINING), the message after the 354. */
  readonly send: string;
  /** Final replies to wait for; the last one is the row's answer. */
  readonly replies: number;
  readonly want: RegExp;
  /** Send everything at once, the message before the 354 too (the early-talker row). */
  readonly pipelineData?: boolean;
}

const HELLO = "EHLO client.test\r\nMAIL FROM:<a@client.test>\r\n";
const rcpt = (addr: string): Row["send"] => `${HELLO}RCPT TO:${addr}\r\n`;
const DATA = `${HELLO}RCPT TO:<postmaster@example.test>\r\nDATA\r\n`;
const REFUSED_RELAY = /^553 5\.7\.1 /;

const ROWS: readonly Row[] = [
  { group: "relay", what: "foreign domain", send: rcpt("<victim@elsewhere.test>"), replies: 3, want: /^553 5\.7\.1 sorry, that domain isn't in my list of allowed rcpthosts/ },
  { group: "relay", what: "percent hack", send: rcpt("<victim%elsewhere.test@example.test>"), replies: 3, want: /^553 5\.7\.1 sorry, % in the local part/ },
  { group: "relay", what: "bang path", send: rcpt("<elsewhere.test!victim@example.test>"), replies: 3, want: /^553 5\.7\.1 sorry, ! in the local part/ },
  { group: "relay", what: "source route through us", send: rcpt("<@example.test:victim@elsewhere.test>"), replies: 3, want: REFUSED_RELAY },
  { group: "relay", what: "source route, local final hop (route ignored)", send: rcpt("<@elsewhere.test:postmaster@example.test>"), replies: 3, want: /^250 / },
  { group: "relay", what: "quoted local part holding an @", send: rcpt('<"victim@elsewhere.test"@example.test>'), replies: 3, want: /^553 5\.7\.1 sorry, @ in the local part/ },
  { group: "relay", what: "escaped @ in the local part", send: rcpt("<victim\\@elsewhere.test@example.test>"), replies: 3, want: /^501 5\.1\.3 bad recipient address syntax/ },
  { group: "relay", what: "IP literal, not ours", send: rcpt("<victim@[192.0.2.1]>"), replies: 3, want: REFUSED_RELAY },
  { group: "relay", what: "IP literal, ours (becomes localiphost)", send: rcpt("<postmaster@[127.0.0.1]>"), replies: 3, want: /^250 / },
  { group: "relay", what: "trailing dot on a foreign domain", send: rcpt("<victim@elsewhere.test.>"), replies: 3, want: /^553 5\.1\.2 bad recipient address: trailing dot/ },
  { group: "relay", what: "trailing dot on our domain", send: rcpt("<postmaster@example.test.>"), replies: 3, want: /^553 5\.1\.2 / },
  { group: "relay", what: "mixed case, our domain", send: rcpt("<postmaster@ExAmPlE.TeSt>"), replies: 3, want: /^250 / },
  { group: "relay", what: "mixed case, foreign domain", send: rcpt("<victim@ElseWhere.TEST>"), replies: 3, want: REFUSED_RELAY },
  { group: "relay", what: "address without brackets", send: rcpt("victim@elsewhere.test"), replies: 3, want: REFUSED_RELAY },
  { group: "relay", what: "two @ (an unquoted @ in the local part)", send: rcpt("<victim@elsewhere.test@example.test>"), replies: 3, want: /^501 5\.1\.3 bad recipient address syntax/ },
  { group: "relay", what: "no domain", send: rcpt("<victim>"), replies: 3, want: /^553 5\.1\.3 / },
  { group: "relay", what: "unknown local user", send: rcpt("<nosuchuser@example.test>"), replies: 3, want: /^550 5\.1\.1 / },
  { group: "protocol", what: "message sent before the 354 (early talker)", send: `${DATA}Subject: early\r\n\r\nx\r\n.\r\n`, replies: 4, want: /^554 5\.5\.0 message data sent before the 354 reply/, pipelineData: true },
  { group: "smuggling", what: "bare LF . bare LF ends nothing", send: `${DATA}Subject: a\r\n\r\nx\n.\nMAIL FROM:<s@x>\r\nRCPT TO:<postmaster@example.test>\r\nDATA\r\nSubject: smuggled\r\n\r\n.\r\n`, replies: 5, want: /^451 4\.5\.0 bare LF/ },
  { group: "smuggling", what: "CR LF . LF", send: `${DATA}Subject: a\r\n\r\nx\r\n.\nMAIL FROM:<s@x>\r\nDATA\r\nSubject: smuggled\r\n\r\n.\r\n`, replies: 5, want: /^451 4\.5\.0 bare LF/ },
  { group: "smuggling", what: "LF . CR LF", send: `${DATA}Subject: a\r\n\r\nx\n.\r\nMAIL FROM:<s@x>\r\nDATA\r\nSubject: smuggled\r\n\r\n.\r\n`, replies: 5, want: /^451 4\.5\.0 bare LF/ },
  { group: "smuggling", what: "CR . CR", send: `${DATA}Subject: a\r\n\r\nx\r.\rMAIL FROM:<s@x>\r\nDATA\r\nSubject: smuggled\r\n\r\n.\r\n`, replies: 5, want: /^451 4\.5\.0 bare CR/ },
  { group: "smuggling", what: "CR LF . CR (no LF)", send: `${DATA}Subject: a\r\n\r\nx\r\n.\rMAIL FROM:<s@x>\r\nDATA\r\nSubject: smuggled\r\n\r\n.\r\n`, replies: 5, want: /^451 4\.5\.0 bare CR/ },
  { group: "smuggling", what: "NUL before the dot", send: `${DATA}Subject: a\r\n\r\nx\r\n\0.\r\nMAIL FROM:<s@x>\r\nDATA\r\nSubject: still-data\r\n\r\n.\r\n`, replies: 5, want: /^250 2\.0\.0 ok/ },
  { group: "limits", what: "command line of 10,000 bytes", send: `EHLO client.test\r\nMAIL FROM:<${"a".repeat(10_000)}@client.test>\r\n`, replies: 2, want: /^5\d\d 5\.5\.\d / },
  { group: "limits", what: "address over 899 bytes", send: `EHLO client.test\r\nMAIL FROM:<${"a".repeat(950)}@client.test>\r\n`, replies: 2, want: /^555 5\.1\.3 address too long/ },
  { group: "limits", what: "message over databytes (100000)", send: `${DATA}Subject: big\r\n\r\n${"x".repeat(998)}\r\n`.padEnd(0) + `${"y".repeat(998)}\r\n`.repeat(110) + ".\r\n", replies: 5, want: /^552 5\.3\.4 / },
  { group: "limits", what: "SIZE= over databytes", send: `EHLO client.test\r\nMAIL FROM:<a@client.test> SIZE=200000\r\n`, replies: 2, want: /^552 5\.3\.4 / },
  { group: "limits", what: "header line of 70,000 bytes", send: `${DATA}X-Long: ${"h".repeat(70_000)}\r\n\r\nbody\r\n.\r\n`, replies: 5, want: /^5\d\d 5\.\d\.\d / },
  { group: "limits", what: "100 Received lines (mail loop)", send: `${DATA}${"Received: from x by y\r\n".repeat(100)}\r\nbody\r\n.\r\n`, replies: 5, want: /^554 5\.4\.6 / },
  { group: "limits", what: "one recipient named 1000 times (one copy)", send: HELLO + "RCPT TO:<postmaster@example.test>\r\n".repeat(1000), replies: 1002, want: /^250 2\.1\.5 ok \(already a recipient: one copy\)/ },
  { group: "limits", what: "101 NOOP/RSET/VRFY/HELP", send: "EHLO client.test\r\n" + "NOOP\r\nRSET\r\nVRFY x\r\nHELP\r\n".repeat(25) + "NOOP\r\n", replies: 102, want: /^421 4\.7\.0 too many NOOP, RSET, VRFY or HELP/ },
  { group: "limits", what: "50 refused recipients (probing)", send: HELLO + Array.from({ length: 50 }, (_, i) => `RCPT TO:<nosuchuser${i}@example.test>\r\n`).join(""), replies: 53, want: /^421 4\.7\.0 too many refused recipients/ },
  { group: "verbs", what: "MAIL before HELO", send: "MAIL FROM:<a@client.test>\r\n", replies: 1, want: /^503 5\.5\.1 send HELO or EHLO first/ },
  { group: "syntax", what: "sender <;sleep 66;>", send: "EHLO client.test\r\nMAIL FROM:<;sleep 66;>\r\n", replies: 2, want: /^501 5\.1\.7 bad sender address syntax/ },
  { group: "syntax", what: "sender <.!>", send: "EHLO client.test\r\nMAIL FROM:<.!>\r\n", replies: 2, want: /^501 5\.1\.7 bad sender address syntax/ },
  { group: "syntax", what: "sender < >", send: "EHLO client.test\r\nMAIL FROM:< >\r\n", replies: 2, want: /^501 5\.1\.7 bad sender address syntax/ },
  { group: "syntax", what: "quoted domain", send: rcpt('<postmaster@"example.test">'), replies: 3, want: /^501 5\.1\.3 bad recipient address syntax: a quote or backslash in the domain/ },
  { group: "limits", what: "AUTH PLAIN of 12,000 bytes (no TLS)", send: `EHLO client.test\r\nAUTH PLAIN ${"A".repeat(12_000)}\r\n`, replies: 2, want: /^(502|538) / },
  { group: "limits", what: "21 unknown commands", send: "EHLO client.test\r\n" + "XYZZY\r\n".repeat(21), replies: 21, want: /^421 4\.7\.0 too many unrecognized commands/ },
  { group: "bytes", what: "NUL in a command", send: "EHLO client.test\r\nMAIL FROM:<a\0b@client.test>\r\n", replies: 2, want: /^500 5\.5\.2 NUL byte in command/ },
  { group: "bytes", what: "invalid UTF-8 sender, no SMTPUTF8", send: "EHLO client.test\r\nMAIL FROM:<\xff\xfe@client.test>\r\n", replies: 2, want: /^553 5\.6\.7 / },
  { group: "bytes", what: "invalid UTF-8 recipient, no SMTPUTF8", send: rcpt("<\xff@example.test>"), replies: 3, want: /^553 5\.6\.7 / },
  { group: "bytes", what: "invalid UTF-8 sender even with SMTPUTF8", send: "EHLO client.test\r\nMAIL FROM:<\xff@client.test> SMTPUTF8\r\n", replies: 2, want: /^553 5\.6\.7 / },
  { group: "bytes", what: "valid UTF-8 sender with SMTPUTF8", send: "EHLO client.test\r\nMAIL FROM:<\xc3\xa9@client.test> SMTPUTF8\r\n", replies: 2, want: /^250 / },
  { group: "bytes", what: "NUL and invalid UTF-8 in the body", send: `${DATA}Subject: bytes\r\n\r\na\0b \xff\xfe\r\n.\r\n`, replies: 5, want: /^250 2\.0\.0 ok/ },
  { group: "injection", what: "CR LF inside MAIL FROM", send: "EHLO client.test\r\nMAIL FROM:<a@b\r\nX-Injected: yes>\r\n", replies: 3, want: /^502 5\.5\.1 / },
  { group: "injection", what: "bare CR inside MAIL FROM", send: "EHLO client.test\r\nMAIL FROM:<a@b\rX-Injected: yes>\r\n", replies: 2, want: /^553 5\.1\.3 control character/ },
  { group: "injection", what: "bare CR in HELO, then a message", send: `HELO x\rX-Injected: yes\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<postmaster@example.test>\r\nDATA\r\nSubject: helo-cr\r\n\r\nx\r\n.\r\n`, replies: 5, want: /^250 2\.0\.0 ok/ },
  { group: "verbs", what: "verb named after Object.prototype", send: "constructor\r\n__proto__ x\r\n", replies: 2, want: /^502 5\.5\.1 / },
  { group: "verbs", what: "RCPT before MAIL", send: "EHLO client.test\r\nRCPT TO:<postmaster@example.test>\r\n", replies: 2, want: /^503 5\.5\.1 / },
  { group: "verbs", what: "DATA without RCPT", send: "EHLO client.test\r\nMAIL FROM:<a@client.test>\r\nDATA\r\n", replies: 3, want: /^503 5\.5\.1 / },
  { group: "verbs", what: "AUTH without TLS", send: "EHLO client.test\r\nAUTH PLAIN AGEAYg==\r\n", replies: 2, want: /^(502|538) / },
];

/** The standalone binary (fast start) when it builds; the source through tsx otherwise. */
async function useFastQm(): Promise<void> {
  try {
    process.env.QM_BIN ??= await fastQm();
  } catch (err) {
    process.stderr.write(`# standalone qm did not build, using the source: ${String(err).split("\n")[0]}\n`);
  }
}

let home = "";
let qm: Running;
let port = 0;
const seen = new Map<Row, string>();

before(async () => {
  await useFastQm();
  home = await smtpdHome();
  control(home, "databytes", "100000\n");
  control(home, "timeoutsmtpd", "3\n");
  control(home, "timeoutcommand", "4\n");
  control(home, "mindatarate", "100:2\n");
  qm = await startListener(home, ["--listen", "127.0.0.1:0", "--max", "12", "--max-per-ip", "6"]);
  port = qm.ports[0]!;
});
after(async () => {
  await qm?.stop();
  const out = process.env.QM_HOSTILE_TABLE;
  if (out && seen.size > 0) writeFileSync(out, renderTable());
});

async function talk(row: Row): Promise<string[]> {
  const c = await Client.open(port);
  const greeting = await c.replies(1);
  assert.match(greeting[0] ?? "", /^220 /);
  // a client waits for the 354 before the message (RFC 2920 §3.1), unless the row is about not waiting
  const at = row.pipelineData ? -1 : row.send.search(/(?:^|\r\n)DATA\r\n/);
  const cut = at < 0 ? row.send.length : row.send.indexOf("DATA\r\n", at) + 6;
  const before = row.send.slice(0, cut).split("\r\n").length - 1;
  c.send(row.send.slice(0, cut));
  const got = cut < row.send.length ? await c.replies(before, 20_000) : [];
  if (cut < row.send.length) c.send(row.send.slice(cut));
  got.push(...(await c.replies(row.replies - got.length, 20_000)));
  c.send("QUIT\r\n");
  c.sock.end();
  return got;
}

describe("qm smtpd against hostile clients", { timeout: 300_000 }, () => {
  for (const row of ROWS) {
    it(`${row.group}: ${row.what} -> ${row.want.source.slice(1, 20)}`, async () => {
      const got = await talk(row);
      const last = got.at(-1) ?? "(connection closed)";
      seen.set(row, last);
      assert.match(last, row.want, `replies: ${JSON.stringify(got)}`);
    });
  }

  it("queued nothing smuggled, and no injected header line", () => {
    const all = queued(home);
    assert.ok(all.length > 0, "the accepted rows queued messages");
    for (const m of all) {
      const head = m.slice(0, m.indexOf("\n\n") + 1);
      assert.ok(!head.includes("Subject: smuggled"), `a smuggled message reached the queue: ${m.slice(0, 400)}`);
      assert.ok(!m.includes("Subject: smuggled"), "the text after a smuggling attempt was queued at all");
      assert.ok(!/^X-Injected:/m.test(m), `an injected header line: ${m.slice(0, 300)}`);
    }
  });

  it("drops a client that says nothing with 421 after timeoutsmtpd", async () => {
    const c = await Client.open(port);
    await c.replies(1);
    const t0 = Date.now();
    const got = await c.replies(1, 10_000);
    seen.set({ group: "slow", what: "silent client (timeoutsmtpd 3)", send: "", replies: 1, want: /421/ }, got[0] ?? "(closed)");
    assert.match(got[0] ?? "", /^421 4\.4\.2 timeout/);
    assert.ok(Date.now() - t0 >= 2500 && Date.now() - t0 < 8000, `after ${Date.now() - t0} ms`);
  });

  it("refuses a flood past --max-per-ip with 421 and keeps serving", async () => {
    const clients = await Promise.all(Array.from({ length: 10 }, () => Client.open(port)));
    const greetings = (await Promise.all(clients.map((c) => c.replies(1, 10_000)))).map((g) => g[0] ?? "");
    const refused = greetings.filter((g) => g.startsWith("421"));
    seen.set({ group: "slow", what: "10 connections at once from one IP (--max-per-ip 6)", send: "", replies: 1, want: /421/ }, refused[0] ?? "(none refused)");
    assert.equal(greetings.filter((g) => g.startsWith("220")).length, 6, JSON.stringify(greetings));
    assert.match(refused[0] ?? "", /^421 4\.7\.0 too many sessions from your address/);
    for (const c of clients) c.sock.destroy();
    await new Promise((r) => setTimeout(r, 300));
    const again = await talk({ group: "", what: "", send: "NOOP\r\n", replies: 1, want: /250/ });
    assert.match(again[0] ?? "", /^250 /);
  });

  it("ends a command dribbled in a byte a second with 421 after timeoutcommand", async () => {
    const c = await Client.open(port);
    await c.replies(1);
    for (let i = 0; i < 8 && !c.closed; i++) {
      c.send("EHLO slowloris.test".slice(i, i + 1));
      await new Promise((r) => setTimeout(r, 1000));
    }
    const got = await c.replies(1, 10_000);
    seen.set({ group: "slow", what: "a command dribbled in, a byte a second (timeoutcommand 4)", send: "EHLO slowl…", replies: 1, want: /421/ }, got[0] ?? "(closed)");
    assert.match(got[0] ?? "", /^421 4\.4\.2 command not finished within 4 s \(timeoutcommand\)/);
  });

  it("ends message data slower than mindatarate with 421", async () => {
    const c = await Client.open(port);
    await c.replies(1);
    c.send("EHLO client.test\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<postmaster@example.test>\r\nDATA\r\n");
    assert.match((await c.replies(4)).at(-1) ?? "", /^354 /);
    for (let i = 0; i < 12 && !c.closed; i++) {
      c.send("Subject: drip\r\n".slice(0, 5));
      await new Promise((r) => setTimeout(r, 500)); // 10 bytes a second
    }
    const got = await c.replies(1, 10_000);
    seen.set({ group: "slow", what: "message data at 10 bytes a second (mindatarate 100:2)", send: `${DATA}Subje…`, replies: 1, want: /421/ }, got[0] ?? "(closed)");
    assert.match(got[0] ?? "", /^421 4\.4\.2 message data slower than 100 bytes a second \(mindatarate\)/);
  });

  it("ends a connection that dribbles a byte at a time past the timeout only when it stops", async () => {
    const c = await Client.open(port);
    await c.replies(1);
    for (const ch of "NOOP\r") {
      c.send(ch);
      await new Promise((r) => setTimeout(r, 500));
    }
    c.send("\n");
    assert.match((await c.replies(1))[0] ?? "", /^250 /);
    c.sock.destroy();
  });
});

describe("qm local against hostile local parts", { timeout: 300_000 }, () => {
  const ROOT_RUN = process.getuid?.() === 0;
  const UID = ROOT_RUN ? 65534 : process.getuid!();
  const TRICKS = ["../../../../tmp/qm-evil", "..", "/etc/passwd", "x/../../y", ".qmail", "-default", "a\nb"];
  for (const ext of TRICKS) {
    it(`keeps ext ${JSON.stringify(ext)} inside the home`, async () => {
      const top = tempDir("qm-hostile-");
      const h = join(top, "home");
      mkdirSync(join(h, "Maildir", "new"), { recursive: true });
      for (const d of ["tmp", "cur"]) mkdirSync(join(h, "Maildir", d));
      writeFileSync(join(h, ".qmail-default"), "./Maildir/\n");
      if (ROOT_RUN) spawnSync("chown", ["-R", `${UID}:${UID}`, top], { timeout: 60_000 });
      const r = await runQm(["local", "--", "bob", h, `bob-${ext}`, "-", ext, "example.test", "s@x.org", "./Maildir/"], { input: "Subject: t\n\nx\n" });
      seen.set({ group: "local", what: `qm local, ext ${JSON.stringify(ext)}`, send: "", replies: 0, want: /./ }, `exit ${r.code}: ${r.stdout.toString().trim() || r.stderr.toString().trim()}`);
      assert.ok([0, 100, 111].includes(r.code ?? -1), `exit ${r.code}`);
      if (r.code === 0) assert.equal(readdirSync(join(h, "Maildir", "new")).length, 1, "delivered into the home's Maildir");
      assert.ok(!existsSync("/tmp/qm-evil"), "a file outside the home");
      const names = readdirSync(top);
      assert.deepEqual(names, ["home"], "something was written next to the home");
      chownSync(top, 0, 0);
    });
  }
});

function renderTable(): string {
  const esc = (s: string): string => JSON.stringify(s).slice(1, -1).replace(/[\x80-\xff]/g, (c) => `\\x${c.charCodeAt(0).toString(16)}`).replace(/\|/g, "\\|").slice(0, 160);
  const lines = [
    "# The hostile-client table",
    "",
    "Generated by `QM_HOSTILE_TABLE=docs/hostile-clients.md node --import tsx --test test/security/hostile-clients.test.ts`",
    "against a real `qm smtpd --listen 127.0.0.1:0` (rcpthosts: example.test, localhost; databytes 100000;",
    "timeoutsmtpd 3; timeoutcommand 4; mindatarate 100:2; --max-per-ip 6; the client has no RELAYCLIENT and no AUTH). Each row is one",
    "connection; the reply is the last one qm gave to what was sent. The test asserts every row.",
    "",
    "| group | client does | sends (after the greeting) | qm replies |",
    "|---|---|---|---|",
  ];
  for (const [row, reply] of seen) lines.push(`| ${row.group} | ${row.what} | \`${esc(row.send.length > 120 ? `${row.send.slice(0, 100)}…(${row.send.length} bytes)` : row.send)}\` | \`${esc(reply)}\` |`);
  return `${lines.join("\n")}\n`;
}
