import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fastQm, makeHome, qmCommand, ROOT, tempDir } from "../support/qm.ts";
import { startPeer, type Peer } from "../support/smtp-peer.ts";
import { Client, control, isRoot, NOBODY } from "../support/smtpd.ts";

// Fault injection across the whole system. While SMTP clients and `qm inject`
// feed it, SIGKILL qm smtpd, qm send and send's children (lspawn,
// local-worker, rspawn) at random moments and restart them as a supervisor
// would; fill the disk and free it (small tmpfs; needs root); make the remote
// peer (127.0.0.1 through control/smtproutes) hang, reset or answer garbage.
// Then every acknowledged message (inject exit 0, or 250 after DATA) must be
// delivered or bounced, for each of its two recipients, with nothing left in
// the queue. The counts are printed as test diagnostics.
// CI: ~35 s of feeding. QM_FAULT_SCALE=10 feeds ten times longer (the long run).

const SCALE = Math.max(1, Number(process.env.QM_FAULT_SCALE ?? "1") || 1);
const FEED_MS = 35_000 * SCALE;
const DRAIN_MS = 60_000 + 10_000 * SCALE;
const LOCAL = "postmaster@example.test";

const mntTop = tempDir("qm-fault-fs-");
chmodSync(mntTop, 0o755); // the smtpd user (nobody) must reach the queue
const mnt = join(mntTop, "fs");
mkdirSync(mnt);
const mounted = isRoot && spawnSync("mount", ["-t", "tmpfs", "-o", "size=48m,mode=0755", "tmpfs", mnt], { timeout: 60_000 }).status === 0;
after(() => {
  if (mounted) spawnSync("umount", ["-l", mnt], { timeout: 60_000 });
});

const rand = (n: number): number => Math.floor(Math.random() * n);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** Direct children of a pid, from /proc. */
function children(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number));
  } catch {
    return [];
  }
}
function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").replace(/\0/g, " ");
  } catch {
    return "";
  }
}

/** Keeps one `qm <args>` running: restarts it whenever it exits, until stopped. */
class Supervised {
  child: ChildProcess | null = null;
  starts = 0;
  #stopping = false;
  readonly #cmd: { cmd: string; args: string[] };
  readonly #args: string[];
  readonly #env: NodeJS.ProcessEnv;
  readonly log: string[] = [];
  constructor(cmd: { cmd: string; args: string[] }, args: string[], env: NodeJS.ProcessEnv) {
    this.#cmd = cmd;
    this.#args = args;
    this.#env = env;
  }
  start(): void {
    if (this.#stopping) return;
    this.starts++;
    const c = spawn(this.#cmd.cmd, [...this.#cmd.args, ...this.#args], { cwd: ROOT, env: { ...process.env, ...this.#env }, stdio: ["ignore", "ignore", "pipe"] });
    c.stderr!.on("data", (b: Buffer) => {
      if (this.log.length < 200) this.log.push(b.toString().trim());
    });
    c.on("exit", () => {
      if (this.child === c) this.child = null;
      setTimeout(() => this.start(), 100);
    });
    this.child = c;
  }
  kill(): boolean {
    return this.child?.kill("SIGKILL") ?? false;
  }
  async stop(): Promise<void> {
    this.#stopping = true;
    const c = this.child;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((r) => {
      c.once("exit", () => r());
      c.kill("SIGTERM");
      setTimeout(() => c.kill("SIGKILL"), 5000);
    });
  }
}

type PeerMode = "ok" | "hang" | "reset" | "garbage" | "tempfail";
const GARBAGE = ["xyzzy", "250", "2500 ok", "\x00\xff\xfe", "-250 ok", "999 what", "250-ok"];

function message(token: string, from: string): string {
  return `From: ${from}\nTo: ${LOCAL}\nSubject: ${token}\nMessage-ID: <${token}@fault.test>\n\nbody of ${token}\n${"x".repeat(rand(3000))}\n`;
}

async function smtpSend(port: number, token: string, rcpts: readonly string[]): Promise<boolean> {
  let c: Client;
  try {
    c = await Client.open(port);
  } catch {
    return false;
  }
  try {
    const g = await c.replies(1, 5000);
    if (!g[0]?.startsWith("220")) return false;
    c.send(`EHLO feeder.test\r\nMAIL FROM:<${LOCAL}>\r\n${rcpts.map((r) => `RCPT TO:<${r}>\r\n`).join("")}DATA\r\n`);
    const r = await c.replies(3 + rcpts.length, 10_000);
    if (r.at(-1)?.slice(0, 3) !== "354") return false;
    c.send(`${message(token, LOCAL).replace(/\n/g, "\r\n")}.\r\n`);
    const done = await c.replies(1, 20_000);
    c.send("QUIT\r\n");
    return done[0]?.startsWith("250") ?? false;
  } finally {
    c.sock.destroy();
  }
}

function inject(cmd: { cmd: string; args: string[] }, env: NodeJS.ProcessEnv, token: string, rcpts: readonly string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const c = spawn(cmd.cmd, [...cmd.args, "inject", "-f", LOCAL, "--", ...rcpts], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["pipe", "ignore", "ignore"], ...(isRoot ? { uid: NOBODY, gid: NOBODY } : {}) });
    const timer = setTimeout(() => c.kill("SIGKILL"), 30_000);
    c.on("error", () => resolve(false));
    c.on("close", (code) => {
      clearTimeout(timer);
      resolve(code === 0);
    });
    c.stdin!.on("error", () => {});
    c.stdin!.end(message(token, LOCAL));
  });
}

function maildir(home: string): string[] {
  const out: string[] = [];
  for (const d of ["new", "cur"]) {
    const dir = join(home, "alias", "Maildir", d);
    for (const f of readdirSync(dir)) out.push(readFileSync(join(dir, f), "latin1"));
  }
  return out;
}
function queueLeft(home: string): Record<string, number> {
  const count = (rel: string): number => readdirSync(join(home, "queue", rel), { recursive: true }).map(String).filter((n) => !/^\d+$/.test(n) || rel === "todo" || rel === "bounce" || rel === "intd" || rel === "pid").length;
  return Object.fromEntries(["todo", "intd", "pid", "info", "local", "remote", "bounce", "mess"].map((d) => [d, count(d)]));
}

describe("the whole system under faults", { timeout: 600_000 }, () => {
  it("delivers or bounces every acknowledged message, with nothing left in the queue", { timeout: FEED_MS + DRAIN_MS + 120_000 }, async (t) => {
    let cmd = qmCommand();
    try {
      // a copy every uid can run: lspawn starts workers as the recipient (nobody)
      const dir = tempDir("qm-fault-bin-");
      chmodSync(dir, 0o755);
      copyFileSync(await fastQm(), join(dir, "qm"));
      chmodSync(join(dir, "qm"), 0o755);
      cmd = { cmd: join(dir, "qm"), args: [] };
    } catch (err) {
      t.diagnostic(`standalone qm did not build, using the source: ${String(err).split("\n")[0]}`);
    }
    let home = await makeHome("example.test");
    chmodSync(join(home, ".."), 0o755);
    if (mounted) {
      spawnSync("cp", ["-a", home, join(mnt, "qm")], { timeout: 60_000 });
      home = join(mnt, "qm");
    } else t.diagnostic("no tmpfs (needs root): the disk-full phase is skipped");
    if (isRoot) spawnSync("chown", ["-R", `${NOBODY}:${NOBODY}`, join(home, "queue")], { timeout: 60_000 });
    const env = { QMHOME: home };

    let mode: PeerMode = "ok";
    const peer: Peer = await startPeer({
      answer: (line) => {
        const verb = line.split(" ")[0]!.toUpperCase();
        if (mode === "hang" && verb === "EHLO") return "hang";
        if (mode === "reset" && verb === "MAIL") return "close";
        if (mode === "garbage" && (verb === "MAIL" || verb === "RCPT")) return GARBAGE[rand(GARBAGE.length)]!;
        if (mode === "tempfail" && verb === "RCPT") return "451 4.3.0 try again later";
        return undefined;
      },
      afterData: () => (mode === "reset" ? "close" : mode === "garbage" ? GARBAGE[rand(GARBAGE.length)]! : "250 ok"),
    });
    const port = await freePort();
    control(home, "smtproutes", `peer.test:127.0.0.1:${peer.port}\n`);
    control(home, "timeoutremote", "3\n");
    control(home, "timeoutconnect", "2\n");
    control(home, "smtprules", '127.0.0.1:allow,RELAYCLIENT=""\n:deny\n');

    const smtpd = new Supervised(cmd, ["smtpd", "--listen", `127.0.0.1:${port}`, "--max", "50", "--max-per-ip", "50", ...(isRoot ? ["--user", "nobody"] : [])], env);
    const send = new Supervised(cmd, ["send"], env);
    smtpd.start();
    send.start();
    await sleep(1500);

    const acked = new Map<string, "smtp" | "inject">();
    const kills: Record<string, number> = { smtpd: 0, send: 0, lspawn: 0, "local-worker": 0, local: 0, rspawn: 0 };
    let attempts = 0;
    let diskFull = "not tried";
    let feeding = true;
    let n = 0;

    const smtpFeeder = async () => {
      while (feeding) {
        const token = `FAULT-S${n++}`;
        attempts++;
        if (await smtpSend(port, token, [LOCAL, `r-${token}@peer.test`])) acked.set(token, "smtp");
        await sleep(150 + rand(100)); // a steady load, not a flood: the drain must finish in CI
      }
    };
    const injectFeeder = async () => {
      while (feeding) {
        const token = `FAULT-I${n++}`;
        attempts++;
        if (await inject(cmd, env, token, [LOCAL, `r-${token}@peer.test`])) acked.set(token, "inject");
        await sleep(150 + rand(100));
      }
    };
    const killer = async () => {
      while (feeding) {
        await sleep(500 + rand(2000));
        const sendPid = send.child?.pid;
        const kids = sendPid ? children(sendPid) : [];
        const grandkids = kids.flatMap(children);
        const targets: [string, () => boolean][] = [
          ["smtpd", () => smtpd.kill()],
          ["send", () => send.kill()],
          ...[...kids, ...grandkids].map((pid): [string, () => boolean] => {
            const name = /\b(lspawn|rspawn|local-worker|local)\b/.exec(cmdline(pid))?.[1] ?? "other";
            return [name, () => { try { process.kill(pid, "SIGKILL"); return true; } catch { return false; } }];
          }),
        ];
        const [name, kill] = targets[rand(targets.length)]!;
        if (kill()) kills[name] = (kills[name] ?? 0) + 1;
      }
    };
    const peerChaos = async () => {
      const modes: PeerMode[] = ["ok", "hang", "reset", "garbage", "tempfail"];
      while (feeding) {
        await sleep(3000);
        mode = modes[rand(modes.length)]!;
      }
      mode = "ok";
    };
    const diskChaos = async () => {
      if (!mounted) return;
      await sleep(FEED_MS / 2);
      const filler = join(mnt, "filler");
      try {
        const st = statfsSync(mnt);
        writeFileSync(filler, Buffer.alloc(Math.max(0, Number(st.bavail) * Number(st.bsize) - 64 * 1024)));
        const before = acked.size;
        await sleep(4000);
        diskFull = `full for 4 s: ${acked.size - before} messages acknowledged meanwhile`;
      } catch (err) {
        diskFull = `could not fill: ${String(err)}`;
      } finally {
        rmSync(filler, { force: true });
      }
    };

    const stopFeeding = sleep(FEED_MS).then(() => (feeding = false));
    await Promise.all([smtpFeeder(), smtpFeeder(), injectFeeder(), killer(), peerChaos(), diskChaos(), stopFeeding]);

    // Drain: the peer behaves, the downed-host memory is forgotten, and send is
    // nudged (SIGALRM: every deferred delivery now) until the queue is empty.
    mode = "ok";
    rmSync(join(home, "queue", "lock", "tcpto"), { force: true });
    // Entries that todo/ preprocessing failed on while the disk was full are
    // retried after SLEEP_SYSFAIL (123 s) or at the next trigger: pull it, as
    // the next incoming message would, so CI does not wait two minutes.
    spawnSync("sh", ["-c", `printf x > ${join(home, "queue", "lock", "trigger")}`], { timeout: 2000 });
    const deadline = Date.now() + DRAIN_MS;
    let left = queueLeft(home);
    while (Date.now() < deadline) {
      left = queueLeft(home);
      if (left.todo === 0 && left.info === 0 && left.local === 0 && left.remote === 0 && left.bounce === 0) break;
      send.child?.kill("SIGALRM");
      await sleep(2000);
    }
    await send.stop();
    await smtpd.stop();
    await peer.close();

    const box = maildir(home);
    const remoteBodies = peer.sessions.flatMap((s) => s.bodies).join("\n");
    const bounced = box.filter((m) => m.startsWith("Return-Path: <>")).join("\n");
    const delivered = box.filter((m) => !m.startsWith("Return-Path: <>")).join("\n");
    const lost: string[] = [];
    let localOk = 0;
    let remoteOk = 0;
    let bounces = 0;
    for (const token of acked.keys()) {
      const needle = `Subject: ${token}\n`;
      const b = bounced.includes(needle);
      if (b) bounces++;
      const l = delivered.includes(needle);
      const r = remoteBodies.includes(`Subject: ${token}\r\n`);
      if (l) localOk++;
      if (r) remoteOk++;
      if (!(l || b)) lost.push(`${token} (local recipient)`);
      if (!(r || b)) lost.push(`${token} (remote recipient)`);
    }
    t.diagnostic(`fed ${attempts} messages, ${acked.size} acknowledged (${[...acked.values()].filter((v) => v === "smtp").length} by smtpd, ${[...acked.values()].filter((v) => v === "inject").length} by inject)`);
    t.diagnostic(`delivered: ${localOk} local, ${remoteOk} remote; bounced: ${bounces}; lost: ${lost.length}`);
    t.diagnostic(`SIGKILLs: ${Object.entries(kills).map(([k, v]) => `${k} ${v}`).join(", ")}; restarts: smtpd ${smtpd.starts - 1}, send ${send.starts - 1}`);
    t.diagnostic(`disk: ${diskFull}; peer sessions: ${peer.sessions.length}; left in queue: ${JSON.stringify(left)}`);
    assert.ok(acked.size > 10, `too few messages acknowledged to prove anything (${acked.size}); send log: ${send.log.slice(-5).join(" | ")}`);
    assert.deepEqual(lost.slice(0, 20), [], `acknowledged but neither delivered nor bounced (${lost.length}); send log: ${send.log.slice(-5).join(" | ")}`);
    for (const d of ["todo", "info", "local", "remote", "bounce"]) assert.equal(left[d], 0, `queue/${d} not empty: ${JSON.stringify(left)}`);
    assert.ok(existsSync(join(home, "queue", "lock", "trigger")));
  });
});
