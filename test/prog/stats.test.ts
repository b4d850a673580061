// qm stats on the log of a real `qm start` run: injected mail, an SMTP session
// with STARTTLS and AUTH, a refused relay. The counts must be the run's, and
// the delay percentiles those computed here from the raw lines. The HTML page
// is opened in Debian's headless chromium: no console error, every chart drawn;
// its screenshot is kept under the test's temp dir and its path printed.
// The same run serves --metrics on loopback: scraped before and after the
// traffic, its counters must have moved by what the run did.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync, readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import nodemailer from "nodemailer";
import { fastQm, ROOT, runQm, tempDir } from "../support/qm.ts";
import { Browser, noChromium } from "../support/chromium.ts";
import { CHARTS } from "../../core/lib/stats/html.ts";
import type { Report } from "../../core/lib/stats/report.ts";
import { waitFor } from "../support/started.ts";

const ROOT_ONLY = process.getuid?.() !== 0 ? "needs root: parts drop to other users, deliveries run as the recipient's uid" : false;
const INJECTED = 5;


/** Nearest-rank percentiles of the delays, from the raw ISO lines: new msg to each final delivery line. */
function delaysFromRaw(log: string): { local: number[]; remote: number[] } {
  const born = new Map<string, number>();
  const open = new Map<string, { id: string; channel: "local" | "remote" }>();
  const out = { local: [] as number[], remote: [] as number[] };
  for (const line of log.split("\n")) {
    const [stampText, ...rest] = line.split(" ");
    const ms = Date.parse(stampText ?? "");
    const text = rest.join(" ");
    let m: RegExpMatchArray | null;
    if ((m = text.match(/^new msg (\d+)$/))) born.set(m[1]!, ms);
    else if ((m = text.match(/^starting delivery (\d+): msg (\d+) to (local|remote) /))) open.set(m[1]!, { id: m[2]!, channel: m[3] as "local" | "remote" });
    else if ((m = text.match(/^delivery (\d+): (success|failure): /))) {
      const d = open.get(m[1]!)!;
      out[d.channel].push((ms - born.get(d.id)!) / 1000);
    }
  }
  return out;
}
function rank(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.ceil((p / 100) * s.length) - 1]!;
}

describe("qm stats on a real run", { skip: ROOT_ONLY, timeout: 400_000 }, () => {
  let fast = "";
  let dir = "";
  let log = "";
  let child: ChildProcess | undefined;
  let before0 = "";
  let after1 = "";

  before(async () => {
    fast = await fastQm();
    dir = tempDir("qm-stats-");
    const home = join(dir, "qm");
    chmodSync(dir, 0o755); // smtpd runs as nobody and must reach control/
    const env = { ...process.env, QMHOME: home };
    assert.equal(spawnSync(fast, ["init", "--me", "example.test"], { env, timeout: 60_000 }).status, 0);
    const user = join(dir, "joe");
    mkdirSync(user);
    assert.equal(spawnSync(fast, ["maildirmake", join(user, "Maildir")], { timeout: 60_000 }).status, 0);
    spawnSync("chown", ["-R", "65534:65534", user], { timeout: 60_000 });
    writeFileSync(join(home, "users", "assign"), `=joe:nobody:65534:65534:${user}:::\n.\n`);
    assert.equal(spawnSync(fast, ["newu"], { env, timeout: 60_000 }).status, 0);
    spawnSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "k"), "-out", join(dir, "c"), "-days", "2", "-subj", "/CN=mx.example.test"], { timeout: 60_000, stdio: "ignore" });
    writeFileSync(join(home, "control", "servercert.pem"), readFileSync(join(dir, "k"), "latin1") + readFileSync(join(dir, "c"), "latin1"), { mode: 0o600 });
    writeFileSync(join(home, "checkpw"), `#!/usr/bin/python3\nimport os, sys\nd = os.read(3, 2048).split(b"\\0")\nsys.exit(0 if d[:2] == [b"joe", b"s3cret"] else 1)\n`, { mode: 0o755 });
    writeFileSync(join(home, "control", "checkpassword"), `${join(home, "checkpw")}\n`);

    const started = spawn(fast, ["start", "--listen", "127.0.0.1:0", "--smtpd-user", "nobody", "--metrics", "127.0.0.1:0"], { env, stdio: ["ignore", "pipe", "pipe"] });
    child = started;
    let raw = "";
    started.stdout.on("data", (b: Buffer) => (raw += b.toString("latin1")));
    started.stderr.on("data", (b: Buffer) => (raw += b.toString("latin1")));
    const port = Number((await waitFor("the listener", () => /smtpd: listening on 127\.0\.0\.1:(\d+)/.exec(raw)))[1]);
    const metricsUrl = (await waitFor("the metrics endpoint", () => /start: metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)$/m.exec(raw)))[1]!;
    before0 = await (await fetch(metricsUrl)).text();
    for (let i = 0; i < INJECTED; i++) {
      const r = spawnSync(fast, ["inject", "joe@example.test"], { input: `Subject: ${i}\n\nbody ${i}\n`, env, timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr.toString());
    }
    const tls = { host: "127.0.0.1", port, secure: false, requireTLS: true, tls: { rejectUnauthorized: false } } as const;
    const relay = nodemailer.createTransport({ host: "127.0.0.1", port, secure: false, ignoreTLS: true });
    await assert.rejects(relay.sendMail({ from: "a@client.example", to: "victim@elsewhere.test", text: "x" }), /553/);
    relay.close();
    const bad = nodemailer.createTransport({ ...tls, auth: { user: "joe", pass: "wrong" }, authMethod: "LOGIN" });
    await assert.rejects(bad.sendMail({ from: "joe@example.test", to: "joe@example.test", text: "x" }), /535/);
    bad.close();
    const good = nodemailer.createTransport({ ...tls, auth: { user: "joe", pass: "s3cret" }, authMethod: "PLAIN" });
    await good.sendMail({ from: "joe@example.test", to: "joe@example.test", subject: "smtp", text: "hi" });
    good.close();
    await waitFor("every message done", () => ((raw.match(/ end msg \d+$/gm) ?? []).length === INJECTED + 1 ? true : null));
    after1 = await (await fetch(metricsUrl)).text();
    const notFound = await fetch(metricsUrl.replace("/metrics", "/other"));
    assert.equal(notFound.status, 404);
    started.kill("SIGTERM");
    await new Promise((resolve) => (started.exitCode !== null ? resolve(null) : started.once("exit", resolve)));
    log = raw;
    writeFileSync(join(dir, "current"), log);
  });
  after(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });

  it("counts the messages the run made, and the delay percentiles of the raw lines", async () => {
    const r = await runQm(["stats", "--json", join(dir, "current")]);
    assert.equal(r.code, 0, r.stderr.toString());
    const s = JSON.parse(r.stdout.toString()) as Report;
    assert.deepEqual(s.messages, { in: INJECTED + 1, out: INJECTED + 1, bounces: 0, bytes: s.messages.bytes });
    assert.ok(s.messages.bytes > 0);
    assert.equal(s.recipients, INJECTED + 1);
    assert.deepEqual(s.deliveries.local, { success: INJECTED + 1, failure: 0, deferral: 0, mangled: 0 });
    const raw = delaysFromRaw(log);
    assert.equal(raw.local.length, INJECTED + 1);
    assert.deepEqual(s.delay.local, { count: raw.local.length, p50: rank(raw.local, 50), p90: rank(raw.local, 90), p99: rank(raw.local, 99), max: Math.max(...raw.local) });
    assert.deepEqual(s.sources.smtp, [{ key: "127.0.0.1", count: 1 }]);
    assert.deepEqual(s.sources.auth, [{ key: "joe", count: 1 }]);
    assert.deepEqual(s.sources.users, [{ key: "0", count: INJECTED }], "injected as root; the SMTP message is not a local user's");
    assert.equal(s.smtp.sessions, 3);
    assert.equal(s.smtp.tls, 2);
    assert.equal(s.smtp.authFailed, 1);
    const rejects = new Map(s.smtp.rejects.map((x) => [x.key, x.count]));
    assert.equal(rejects.get("RCPT 553 5.7.1 sorry, that domain isn't in my list of allowed rcpthosts"), 1, JSON.stringify(s.smtp.rejects));
    assert.equal(s.smtp.rejects.reduce((n, x) => n + x.count, 0), (log.match(/ smtpd: \S+ refused /g) ?? []).length, "each refused line counted once (nodemailer pipelines DATA after the refused RCPT)");
    assert.deepEqual(s.domains.map((d) => [d.domain, d.success]), [["example.test", INJECTED + 1]]);
  });

  it("--metrics: the Prometheus counters moved with the run's deliveries, sessions and rejects", () => {
    const value = (text: string, series: string) => {
      const line = text.split("\n").find((l) => l.startsWith(`${series} `));
      return line === undefined ? null : Number(line.slice(series.length + 1));
    };
    assert.match(after1, /^# TYPE qm_deliveries_total counter$/m);
    assert.match(after1, /^# TYPE qm_delivery_delay_seconds histogram$/m);
    assert.equal(value(before0, 'qm_deliveries_total{channel="local",outcome="success"}'), 0);
    assert.equal(value(after1, 'qm_deliveries_total{channel="local",outcome="success"}'), INJECTED + 1);
    assert.equal(value(after1, "qm_messages_queued_total"), INJECTED + 1);
    assert.equal(value(after1, "qm_messages_done_total"), INJECTED + 1);
    assert.equal(value(after1, 'qm_delivery_delay_seconds_count{channel="local"}'), INJECTED + 1);
    assert.equal(value(after1, 'qm_delivery_delay_seconds_bucket{le="+Inf",channel="local"}'), INJECTED + 1);
    assert.equal(value(after1, "qm_smtp_sessions_total"), 3);
    assert.equal(value(after1, "qm_smtp_tls_total"), 2);
    assert.equal(value(after1, 'qm_smtp_auth_total{result="failed"}'), 1);
    assert.equal(value(after1, 'qm_smtp_auth_total{result="ok"}'), 1);
    assert.equal(value(after1, 'qm_smtp_rejects_total{reason="RCPT 553 5.7.1"}'), 1);
    assert.equal(value(after1, 'qm_concurrency_limit{channel="local"}'), 10);
    for (const q of ["todo", "local", "remote", "held", "maildrop"]) assert.equal(value(after1, `qm_queue_messages{queue="${q}"}`), 0, q);
  });

  it("reads the same from stdin, from gzip'd rotated files given in any order, and in the text report", async () => {
    const lines = log.split(/(?<=\n)/);
    const half = Math.floor(lines.length / 2);
    writeFileSync(join(dir, "current.1.gz"), gzipSync(lines.slice(0, half).join("")));
    writeFileSync(join(dir, "current.0"), lines.slice(half).join(""));
    const want = JSON.parse((await runQm(["stats", "--json", join(dir, "current")])).stdout.toString()) as Report;
    const rotated = await runQm(["stats", "--json", join(dir, "current.0"), join(dir, "current.1.gz")]);
    assert.equal(rotated.code, 0, rotated.stderr.toString());
    assert.deepEqual(JSON.parse(rotated.stdout.toString()), want);
    const stdin = await runQm(["stats", "--json"], { input: log });
    assert.deepEqual(JSON.parse(stdin.stdout.toString()), want);
    const text = await runQm(["stats", "-"], { input: log });
    assert.equal(text.code, 0);
    assert.match(text.stdout.toString(), new RegExp(`^messages in {8}${INJECTED + 1} \\(0 bounces\\)`, "m"));
    assert.match(text.stdout.toString(), /^ {2}local {12}6 {9}0 {9}0 {9}0$/m);
  });

  it("counts nothing outside --since/--until, and refuses a time it cannot read or a file it cannot open", async () => {
    const later = await runQm(["stats", "--json", "--since", "2999-01-01", join(dir, "current")]);
    assert.equal((JSON.parse(later.stdout.toString()) as Report).messages.in, 0);
    const inside = await runQm(["stats", "--json", "--since", "1d", "--until", "2999-01-01T00:00Z", join(dir, "current")]);
    assert.equal((JSON.parse(inside.stdout.toString()) as Report).messages.in, INJECTED + 1);
    const bad = await runQm(["stats", "--since", "yesterday", join(dir, "current")]);
    assert.equal(bad.code, 100);
    assert.match(bad.stderr.toString(), /^qm stats: fatal: --since takes a date .*not yesterday\. \(#5\.3\.5\)\n$/);
    const missing = await runQm(["stats", join(dir, "nothing-here")]);
    assert.equal(missing.code, 100);
    assert.match(missing.stderr.toString(), /^qm stats: fatal: Unable to read \S+nothing-here: no such file or directory\. \(#5\.3\.0\)\n$/);
    writeFileSync(join(dir, "broken.gz"), gzipSync(log).subarray(0, 200));
    const broken = await runQm(["stats", join(dir, "broken.gz")]);
    assert.equal(broken.code, 100);
    assert.match(broken.stderr.toString(), /broken\.gz: damaged gzip data/);
  });

  it("--html writes one page that draws every chart in headless chromium with no console error", { skip: noChromium() }, async () => {
    const page = join(dir, "report.html");
    const r = spawnSync(fast, ["stats", "--html", page, join(dir, "current")], { timeout: 60_000, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "", "the page goes to the file only");
    const html = readFileSync(page, "utf8");
    assert.doesNotMatch(html, /\b(?:src|href)=/i, "nothing to fetch");
    const browser = new Browser(join(dir, "chromium-profile"));
    try {
      const session = await browser.page();
      const loaded = browser.event("Page.loadEventFired");
      await browser.send("Page.navigate", { url: `file://${page}` }, session);
      await loaded;
      const check = `JSON.stringify([...document.querySelectorAll("section.chart")].map((c) => {
        const cv = c.querySelector("canvas"); let ink = 0;
        if (cv) { const d = cv.getContext("2d").getImageData(0, 0, cv.width, cv.height).data; for (let i = 3; i < d.length; i += 4) if (d[i]) ink++; }
        return { id: c.id, drawn: c.dataset.drawn === "1", ink };
      }))`;
      const res = (await browser.send("Runtime.evaluate", { expression: check, returnByValue: true }, session)) as { result: { value: string } };
      const charts = JSON.parse(res.result.value) as { id: string; drawn: boolean; ink: number }[];
      assert.deepEqual(charts.map((c) => c.id), CHARTS.map(([id]) => id));
      for (const c of charts) assert.ok(c.drawn && c.ink > 1000, `${c.id} drew (${c.ink} pixels)`);
      const shot = (await browser.send("Page.captureScreenshot", { format: "png", captureBeyondViewport: true }, session)) as { data: string };
      const png = join(dir, "report.png");
      writeFileSync(png, Buffer.from(shot.data, "base64"));
      console.log(`# qm stats --html screenshot: ${png} (removed with the test's temp dir; QM_KEEP_SCREENSHOT=DIR copies it there)`);
      if (process.env.QM_KEEP_SCREENSHOT) writeFileSync(join(process.env.QM_KEEP_SCREENSHOT, "qm-stats.png"), readFileSync(png));
      assert.deepEqual(browser.errors(), []);
    } finally {
      await browser.close();
    }
  });
});

describe("qm stats from the source tree", { timeout: 120_000 }, () => {
  it("reports an empty log as nothing counted", async () => {
    const r = await runQm(["stats", "--json"], { input: "garbage\n\0\0\n", spawn: { cwd: ROOT } });
    assert.equal(r.code, 0, r.stderr.toString());
    const s = JSON.parse(r.stdout.toString()) as Report;
    assert.deepEqual([s.lines, s.events, s.messages.in], [2, 0, 0]);
  });
});
