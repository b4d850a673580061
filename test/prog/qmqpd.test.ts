import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { dirname, join } from "node:path";
import { encodeRequest } from "../../core/lib/qmqp/protocol.ts";
import { fastQm, makeHome, qmCommand, runQm, runQueue } from "../support/qm.ts";

// Dozens of qm processes: the standalone binary starts in a fraction of tsx's time
// (when it cannot be built, the tests run qm from source, only slower).
const bin = await fastQm().catch(() => null);
if (bin && !process.env.QM_BIN) process.env.QM_BIN = bin;

const ROOT_RUN = process.getuid?.() === 0;
const te = new TextEncoder();
const request = (msg: string, sender: string, rcpts: string[]) => encodeRequest(te.encode(msg), { sender, recipients: rcpts });

function todo(home: string): string[] {
  return readdirSync(join(home, "queue/todo"));
}
function mess(home: string, id: string): string {
  return readFileSync(join(home, "queue/mess", String(Number(id) % 23), id), "latin1");
}

/** `qm qmqpd --listen 127.0.0.1:0`; resolves with the child and its port once it says where it listens. */
function startHub(home: string, extra: string[] = []): Promise<{ child: ChildProcess; port: number; log: () => string }> {
  const { cmd, args } = qmCommand();
  if (ROOT_RUN) {
    // as root it serves as --user nobody: let nobody own the queue and reach the home
    chmodSync(dirname(home), 0o755);
    spawnSync("chown", ["-R", "65534:65534", join(home, "queue")], { timeout: 60_000 });
    extra = [...extra, "--user", "nobody"];
  }
  const child = spawn(cmd, [...args, "qmqpd", "--listen", "127.0.0.1:0", ...extra], { env: { ...process.env, QMHOME: home }, stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`qmqpd did not start: ${err}`)), 20_000);
    child.stderr!.on("data", (b: Buffer) => {
      err += b.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), log: () => err });
      }
    });
    child.on("exit", () => reject(new Error(`qmqpd exited: ${err}`)));
  });
}

/** A one-shot fake QMQP server on loopback that reads the request and answers `reply` raw. */
async function fakeServer(reply: string): Promise<{ server: Server; port: number }> {
  const server = createServer((sock) => {
    sock.on("error", () => {});
    let n = 0;
    sock.on("data", (b: Buffer) => {
      n += b.length;
      if (b.subarray(-2).toString() === ",," || n > 1e6) sock.end(reply);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as { port: number }).port };
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe("qm qmqpd (inetd mode)", { concurrency: 4, timeout: 300_000 }, () => {
  it("queues the message with a QMQP Received line and answers Kok", async () => {
    const home = await makeHome("hub.test");
    const r = await runQm(["qmqpd"], { input: request("Subject: hi\n\nbody\n", "a@client.test", ["b@hub.test", "c@x.test"]), env: { QMHOME: home, TCPREMOTEIP: "10.1.2.3", TCPREMOTEPORT: "4000", TCPLOCALIP: "10.0.0.1", TCPLOCALPORT: "628", TCPLOCALHOST: "hub.test" } });
    assert.equal(r.code, 0, r.stderr.toString());
    const id = /^\d+:Kok \d+ qp \d+ msg (\d+),$/.exec(r.stdout.toString())?.[1];
    const ids = todo(home);
    assert.deepEqual(ids, [id], "the reply names the queue id");
    const lines = r.stderr.toString().split("\n").filter((l) => l !== "");
    assert.match(lines[0]!, /^qmqpd: \d+\.1 connect 10\.1\.2\.3 port 4000 to 10\.0\.0\.1 port 628$/);
    assert.match(lines[1]!, new RegExp(`^qmqpd: \\d+\\.1 accepted 10\\.1\\.2\\.3 msg ${id} from <a@client\\.test> rcpts 2$`));
    assert.match(mess(home, ids[0]!), /^Received: \(qmail \d+ invoked from network\); [^\n]+\nReceived: from unknown \(10\.1\.2\.3\)\n  by hub\.test with QMQP; [^\n]+\nSubject: hi\n\nbody\n$/);
    assert.match(readFileSync(join(home, "queue/todo", ids[0]!), "latin1"), /\0Fa@client\.test\0Tb@hub\.test\0Tc@x\.test\0$/);
  });

  it("answers D to an address of 1000 bytes and queues nothing", async () => {
    const home = await makeHome();
    const r = await runQm(["qmqpd"], { input: request("x\n", "a@b", [`${"x".repeat(995)}@b.cd`]), env: { QMHOME: home } });
    assert.equal(r.code, 0);
    assert.match(r.stdout.toString(), /^\d+:Dsorry, I can't accept addresses like that \(#5\.1\.3\),$/);
    assert.deepEqual(todo(home), []);
    assert.match(r.stderr.toString(), /^qmqpd: \d+\.1 refused unknown message: Dsorry, I can't accept addresses like that \(#5\.1\.3\)$/m);
  });

  const BROKEN = [
    ["a missing final comma", "12:3:hi\n,0:,1:b,X", 100],
    ["a leading zero", "012:3:hi\n,0:,1:b,,", 100],
    ["a message netstring longer than the request", "5:30:hi", 100],
    ["a request cut short", "100:3:hi\n,", 100],
    ["garbage", "HELO there\r\n", 100],
    ["a length over the limit", "999999999:", 111],
  ] as const;
  for (const [what, input, code] of BROKEN) {
    it(`exits ${code} without a reply on ${what}, queueing nothing`, async () => {
      const home = await makeHome();
      const r = await runQm(["qmqpd"], { input, env: { QMHOME: home } });
      assert.equal(r.code, code, r.stderr.toString());
      assert.equal(r.stdout.length, 0);
      assert.deepEqual(todo(home), []);
    });
  }
});

describe("qm qmqpd --listen and the QMQP client in qm queue", { timeout: 300_000 }, () => {
  let hubHome = "";
  let hub: { child: ChildProcess; port: number; log: () => string };
  before(async () => {
    hubHome = await makeHome("hub.test");
    hub = await startHub(hubHome);
  });
  after(() => {
    hub.child.kill("SIGTERM");
  });

  it("hands a null client's message to the hub, not to the local queue", async () => {
    const client = await makeHome("client.test");
    const dead = await closedPort();
    writeFileSync(join(client, "control/qmqpservers"), `# hubs\nhub.example\n127.0.0.1:${dead}\n127.0.0.1:${hub.port}\n`);
    const before = todo(hubHome).length;
    const r = await runQueue("Subject: via qmqp\n\nhello\n", "Fme@client.test\0Tyou@hub.test\0\0", { QMHOME: client });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(todo(client), []);
    const ids = todo(hubHome);
    assert.equal(ids.length, before + 1);
    const texts = ids.map((id) => mess(hubHome, id));
    assert.ok(texts.some((t) => /with QMQP;.*\nSubject: via qmqp\n\nhello\n$/s.test(t)), texts.join("\n---\n"));
  });

  it("qm inject on a null client reaches the hub (submit() takes the QMQP path)", async () => {
    const client = await makeHome("client.test");
    writeFileSync(join(client, "control/qmqpservers"), `127.0.0.1:${hub.port}\n`);
    const r = await runQm(["inject", "--", "someone@hub.test"], { input: "Subject: injected\n\nbody\n", env: { QMHOME: client } });
    assert.equal(r.code, 0, r.stderr.toString());
    assert.deepEqual(todo(client), []);
    assert.ok(todo(hubHome).some((id) => mess(hubHome, id).includes("Subject: injected\n")));
  });

  it("refuses a client the rules file denies, and serves it once the file allows it", async () => {
    const home = await makeHome("hub2.test");
    const rules = join(home, "control/qmqprules");
    writeFileSync(rules, "127.0.0.1:deny\n:allow\n");
    const h = await startHub(home);
    try {
      const client = await makeHome("client.test");
      writeFileSync(join(client, "control/qmqpservers"), `127.0.0.1:${h.port}\n`);
      const denied = await runQueue("x\n", "Fa@b\0Tc@d\0\0", { QMHOME: client });
      assert.equal(denied.code, 74, denied.stderr);
      assert.deepEqual(todo(home), []);
      writeFileSync(rules, "127.0.0.1:allow\n:deny\n");
      const allowed = await runQueue("x\n", "Fa@b\0Tc@d\0\0", { QMHOME: client });
      assert.equal(allowed.code, 0, allowed.stderr);
      assert.equal(todo(home).length, 1);
    } finally {
      h.child.kill("SIGTERM");
    }
  });
});

describe("qm queue as a QMQP client: exit codes", { concurrency: 4, timeout: 300_000 }, () => {
  const REPLIES = [
    ["a K reply", "6:Kok 1 ,", 0],
    ["a Z reply", "7:Zbusy 1,", 71],
    ["a D reply", "6:Dnever,", 31],
    ["a reply that is not a netstring", "554 no\r\n", 74],
    ["a hang-up without a reply", "", 74],
  ] as const;
  for (const [what, reply, code] of REPLIES) {
    it(`exits ${code} on ${what}`, async () => {
      const { server, port } = await fakeServer(reply);
      try {
        const client = await makeHome();
        writeFileSync(join(client, "control/qmqpservers"), `127.0.0.1:${port}\n`);
        const r = await runQueue("x\n", "Fa@b\0Tc@d\0\0", { QMHOME: client });
        assert.equal(r.code, code, r.stderr);
      } finally {
        server.close();
      }
    });
  }

  it("tries the next server after a Z, but not after a D", async () => {
    const z = await fakeServer("2:Zx,");
    const d = await fakeServer("2:Dx,");
    const k = await fakeServer("2:Kx,");
    try {
      const client = await makeHome();
      writeFileSync(join(client, "control/qmqpservers"), `127.0.0.1:${z.port}\n127.0.0.1:${k.port}\n`);
      assert.equal((await runQueue("x\n", "Fa@b\0Tc@d\0\0", { QMHOME: client })).code, 0);
      writeFileSync(join(client, "control/qmqpservers"), `127.0.0.1:${d.port}\n127.0.0.1:${k.port}\n`);
      assert.equal((await runQueue("x\n", "Fa@b\0Tc@d\0\0", { QMHOME: client })).code, 31);
    } finally {
      for (const s of [z, d, k]) s.server.close();
    }
  });

  it("exits 73 when every server refuses the connection, 55 when none is listed, 91 on a bad envelope", async () => {
    const client = await makeHome();
    writeFileSync(join(client, "control/qmqpservers"), `127.0.0.1:${await closedPort()}\n`);
    assert.equal((await runQueue("x\n", "Fa@b\0Tc@d\0\0", { QMHOME: client })).code, 73);
    writeFileSync(join(client, "control/qmqpservers"), "hub.example\n# nothing usable\n");
    assert.equal((await runQueue("x\n", "Fa@b\0Tc@d\0\0", { QMHOME: client })).code, 55);
    assert.equal((await runQueue("x\n", "Xa@b\0\0", { QMHOME: client })).code, 91);
    assert.deepEqual(todo(client), []);
  });
});
