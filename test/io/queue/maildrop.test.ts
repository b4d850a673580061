import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, fstatSync, fsyncSync, mkdirSync, readFileSync, readdirSync, readSync, statSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { toBytes } from "../../../core/lib/base/bytes.ts";
import { HEADER, QUIET_SEC } from "../../../core/lib/queue/maildrop.ts";
import { writeMaildrop } from "../../../core/io/queue/maildrop.ts";
import { takeMaildrop, type Pread } from "../../../core/io/queue/intake.ts";
import { fakeHome, queueFiles } from "../../support/send-env.ts";
import { makeDrop, readDrop } from "../../support/maildrop.ts";
import { tempDir } from "../../support/qm.ts";

const ENV = { sender: "joe@example.test", recipients: ["a@example.test", "b@example.test"] };
const now = () => Date.now() / 1000;
const drop = (home: string) => join(home, "queue/maildrop");
const dropped = (home: string) => readdirSync(drop(home)).sort();
const todo = (home: string) => readdirSync(join(home, "queue/todo"));
/** A pid that no process has: a child that has exited and been waited for. */
const deadPid = (): number => spawnSync("true", { timeout: 10_000 }).pid!;

async function* pieces(...parts: string[]): AsyncIterable<Uint8Array> {
  for (const p of parts) yield toBytes(p);
}

describe("writeMaildrop()", { timeout: 120_000 }, () => {
  it("writes one whole file under its final name, mode 0644 whatever the umask, marked ready (0744) only after its fsync", async () => {
    const home = await fakeHome();
    const old = process.umask(0o077);
    let modeAtFsync = -1;
    let r;
    try {
      const fsync = async (fd: number): Promise<void> => {
        modeAtFsync = fstatSync(fd).mode & 0o777;
        fsyncSync(fd);
      };
      r = await writeMaildrop(home, pieces("Subject: x\n\n", "body\n"), ENV, { fsync });
    } finally {
      process.umask(old);
    }
    assert.equal(r.kind, "ok");
    const names = dropped(home);
    assert.equal(names.length, 1);
    assert.match(names[0]!, new RegExp(`^\\d+\\.${process.pid}\\.[0-9a-f]{16}$`));
    assert.equal(modeAtFsync, 0o644, "not ready while its fsync runs");
    assert.equal(statSync(join(drop(home), names[0]!)).mode & 0o777, 0o744);
    assert.deepEqual(readDrop(join(drop(home), names[0]!)), { message: "Subject: x\n\nbody\n", envelope: "Fjoe@example.test\0Ta@example.test\0Tb@example.test\0\0" });
  });

  const FAULTS: [string, Parameters<typeof writeMaildrop>[1], Parameters<typeof writeMaildrop>[2], Parameters<typeof writeMaildrop>[3], number, RegExp][] = [
    ["a failed fsync", toBytes("x\n"), ENV, { fsync: async () => { throw Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" }); } }, 53, /unable to fsync the maildrop file: i\/o error/],
    ["a message that cannot be read to its end", (async function* () { yield toBytes("half"); throw new Error("client went away"); })(), ENV, {}, 54, /unable to read the message/],
    ["an envelope that never comes", toBytes("x\n"), async () => ({ kind: "temp", reason: "Envelope ended early", status: "4.3.0", code: 54 }), {}, 54, /ended early/],
    ["an address too long", toBytes("x\n"), { sender: "", recipients: ["a".repeat(1100)] }, {}, 11, /address too long/],
  ];
  for (const [what, message, env, opts, code, reason] of FAULTS) {
    it(`fails on ${what} (${code}) and leaves nothing in maildrop/`, async () => {
      const home = await fakeHome();
      const r = await writeMaildrop(home, message, env, opts);
      assert.equal(r.kind === "ok" ? 0 : r.code, code);
      assert.match(r.kind === "ok" ? "" : r.reason, reason);
      assert.deepEqual(dropped(home), []);
    });
  }

  const mnt = join(tempDir("qm-drop-fs-"), "fs");
  mkdirSync(mnt);
  const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt], { timeout: 10_000 }).status === 0;
  after(() => { if (mounted) spawnSync("umount", ["-l", mnt], { timeout: 10_000 }); });
  it("fails on a full disk (53) and leaves nothing behind", { skip: !mounted && "cannot mount a tmpfs here (needs root)" }, async () => {
    const home = await fakeHome();
    spawnSync("cp", ["-a", home, join(mnt, "qm")], { timeout: 10_000 });
    const r = await writeMaildrop(join(mnt, "qm"), new Uint8Array(3 << 20).fill(0x78), ENV);
    assert.equal(r.kind === "ok" ? 0 : r.code, 53);
    assert.match(r.kind === "ok" ? "" : r.reason, /no space left on device/);
    assert.deepEqual(dropped(join(mnt, "qm")), []);
  });
});

describe("takeMaildrop()", { timeout: 120_000 }, () => {
  it("queues a whole file with its owner's uid and removes it", async () => {
    const home = await fakeHome();
    await writeMaildrop(home, toBytes("Subject: x\n\nbody\n"), ENV);
    const [name] = dropped(home);
    const events = await takeMaildrop(home, now(), 100);
    assert.equal(events.length, 1);
    assert.match(events[0]!.text, new RegExp(`^maildrop/${name!.replace(/\./g, "\\.")} uid 0 queued as \\d+$`));
    assert.deepEqual(dropped(home), []);
    assert.equal(todo(home).length, 1);
  });

  it("keeps RFC 3461 parameters (the envelope's M and N records) through maildrop/ into todo/", async () => {
    const home = await fakeHome();
    const dsn = { ret: "HDRS" as const, envid: "e1", rcpts: new Map([["b@y.test", { notify: "NEVER" as const }]]) };
    await writeMaildrop(home, toBytes("Subject: x\n\nbody\n"), { sender: "a@x.test", recipients: ["b@y.test"], dsn });
    await takeMaildrop(home, now(), 100);
    const [id] = todo(home);
    assert.match(readFileSync(join(home, "queue", "todo", String(id)), "latin1"), /\0Fa@x\.test\0MHDRS e1\0NNEVER -\0Tb@y\.test\0$/);
  });

  it("queues a whole .NAME (a writer that renames and lost the rename) once", async () => {
    const home = await fakeHome();
    const d = makeDrop("Subject: dot\n\n", ENV, deadPid());
    writeFileSync(join(drop(home), `.${d.name}`), d.bytes);
    const events = await takeMaildrop(home, now(), 100);
    assert.ok(events[0]?.ok, JSON.stringify(events));
    assert.deepEqual(dropped(home), []);
    assert.deepEqual(await takeMaildrop(home, now(), 100), []);
    assert.equal(todo(home).length, 1);
  });

  it("leaves an older qm's .NAME alone (it cannot tell if it is whole) and warns once", async () => {
    const home = await fakeHome();
    writeFileSync(join(drop(home), ".1.2.0123456789abcdef"), "Fa@b\0Tc@d\0\0Subject: maybe half\n");
    const first = await takeMaildrop(home, now() + 10 * 86400, 100);
    assert.match(first[0]?.text ?? "", /is not a whole maildrop file .*left alone/);
    assert.deepEqual(await takeMaildrop(home, now() + 10 * 86400, 100), []);
    assert.deepEqual(dropped(home), [".1.2.0123456789abcdef"]);
    assert.deepEqual(todo(home), []);
  });

  it("queues an older qm's finished file (envelope first, no trailer)", async () => {
    const home = await fakeHome();
    writeFileSync(join(drop(home), "1.2.0123456789abcdef"), "Fa@b\0Tc@d\0\0Subject: old\n\nbody\n");
    const events = await takeMaildrop(home, now(), 100);
    assert.ok(events[0]?.ok, JSON.stringify(events));
    assert.equal(todo(home).length, 1);
  });

  it("leaves a whole file that is not marked ready while its writer runs (it may be in its fsync); takes it once ready, or once the writer is gone", async () => {
    const home = await fakeHome();
    const busy = makeDrop("Subject: busy\n\nbody\n", ENV); // this process is its writer, still at work
    const crashed = makeDrop("Subject: crashed\n\nbody\n", ENV, deadPid()); // a writer that died after its trailer
    const booted = makeDrop("Subject: booted\n\nbody\n", ENV); // written before the last boot: its writer is gone whatever the pid
    for (const d of [busy, crashed, booted]) writeFileSync(join(drop(home), d.name), d.bytes, { mode: 0o644 });
    const boot = Number(/^btime (\d+)$/m.exec(readFileSync("/proc/stat", "latin1"))?.[1] ?? 0);
    utimesSync(join(drop(home), booted.name), boot - 3600, boot - 3600);
    const first = await takeMaildrop(home, now(), 100);
    assert.equal(first.filter((e) => e.ok).length, 2, JSON.stringify(first));
    assert.deepEqual(dropped(home), [busy.name], "the busy writer's file is left");
    assert.equal(todo(home).length, 2);
    chmodSync(join(drop(home), busy.name), 0o744);
    const second = await takeMaildrop(home, now(), 100);
    assert.ok(second[0]?.ok, JSON.stringify(second));
    assert.deepEqual(dropped(home), []);
    assert.equal(todo(home).length, 3);
  });

  it("never queues an incomplete file; keeps it while its writer runs or it was written lately", async () => {
    const home = await fakeHome();
    const live = makeDrop("Subject: live\n\nbody\n", ENV); // this process is its writer
    const fresh = makeDrop("Subject: fresh\n\nbody\n", ENV, deadPid());
    writeFileSync(join(drop(home), live.name), live.bytes.subarray(0, 30));
    writeFileSync(join(drop(home), fresh.name), fresh.bytes.subarray(0, fresh.bytes.length - 1));
    const old = now() - 2 * QUIET_SEC;
    utimesSync(join(drop(home), live.name), old, old);
    assert.deepEqual(await takeMaildrop(home, now(), 100), []);
    assert.deepEqual(dropped(home), [live.name, fresh.name].sort());
    assert.deepEqual(todo(home), []);
  });

  it("removes an incomplete file once its writer is gone, and says which", async () => {
    const home = await fakeHome();
    const cut = makeDrop("Subject: cut\n\nbody\n", ENV, deadPid());
    const empty = makeDrop("", ENV, deadPid());
    const zeros = makeDrop("", ENV, deadPid());
    writeFileSync(join(drop(home), cut.name), cut.bytes.subarray(0, 20));
    writeFileSync(join(drop(home), empty.name), "");
    writeFileSync(join(drop(home), zeros.name), new Uint8Array(8192));
    const events = await takeMaildrop(home, now() + 2 * QUIET_SEC, 100);
    assert.equal(events.length, 3, JSON.stringify(events));
    for (const e of events) assert.match(e.text, /^maildrop\/\S+ incomplete, its writer, pid \d+, has exited; removed$/);
    assert.deepEqual(dropped(home), []);
    assert.deepEqual(todo(home), []);
  });

  it("never queues a file with a whole trailer whose middle is zeros (blocks lost in a crash)", async () => {
    const home = await fakeHome();
    const d = makeDrop(`Subject: torn\n\n${"y".repeat(20000)}\n`, ENV, deadPid());
    const torn = Buffer.from(d.bytes);
    torn.fill(0, 4096, 8192);
    writeFileSync(join(drop(home), d.name), torn);
    assert.deepEqual(await takeMaildrop(home, now(), 100), []);
    assert.deepEqual(queueFiles(home).filter((f) => !f.startsWith("maildrop/")), []);
    let read = 0;
    const counting: Pread = (fd, buf, pos) => { const n = readSync(fd, buf, 0, buf.length, pos); read += n; return n; };
    assert.deepEqual(await takeMaildrop(home, now(), 100, { pread: counting }), []);
    assert.ok(read < 200, `a damaged file known from the last pass is not streamed again (read ${read} bytes)`);
    const later = await takeMaildrop(home, now() + 2 * QUIET_SEC, 100);
    assert.match(later[0]?.text ?? "", /damaged \(its checksum does not match\), its writer, pid \d+, has exited; removed$/);
  });

  it("removes what no writer makes: links, FIFOs, other names, bad envelopes", async () => {
    const home = await fakeHome();
    const secret = join(home, "secret");
    writeFileSync(secret, "Fx@y\0Tok@example.test\0\0stolen\n");
    symlinkSync(secret, join(drop(home), "link"));
    spawnSync("mkfifo", [join(drop(home), "fifo")], { timeout: 10_000 });
    writeFileSync(join(drop(home), "junk"), "Xnot an envelope");
    const bad = makeDrop("x\n", toBytes("X\0\0"));
    writeFileSync(join(drop(home), bad.name), bad.bytes, { mode: 0o744 }); // whole and ready, as its (live) writer left it
    const events = await takeMaildrop(home, now(), 100);
    const texts = events.map((e) => e.text).sort();
    assert.equal(texts.length, 4, texts.join("\n"));
    assert.ok(texts.some((t) => /^maildrop\/link is a symbolic link; removed$/.test(t)));
    assert.ok(texts.some((t) => /^maildrop\/fifo is not a regular file; removed$/.test(t)));
    assert.ok(texts.some((t) => /^maildrop\/junk is not a queue file; removed$/.test(t)));
    assert.ok(texts.some((t) => /has a bad envelope \(Envelope format error\); removed$/.test(t)), texts.join("\n"));
    assert.ok(existsSync(secret));
    assert.deepEqual(todo(home), []);
  });

  it("reads each byte of a 16 MB file once (linear, no copies that grow with the size)", async () => {
    const home = await fakeHome();
    const big = `Subject: big\n\n${"z".repeat(16 << 20)}\n`;
    const sizes: [number, number][] = [];
    for (const d of [makeDrop(big, ENV), { name: "1.2.00000000000000aa", bytes: Buffer.from(`Fa@b\0Tc@d\0\0${big}`, "latin1") }, { name: "1.2.00000000000000bb", bytes: Buffer.from(`F${"A".repeat(17 << 20)}`, "latin1") }]) {
      writeFileSync(join(drop(home), d.name), d.bytes, { mode: 0o744 }); // ready: its writer (this process) is done
      let read = 0;
      const counting: Pread = (fd, buf, pos) => {
        const n = readSync(fd, buf, 0, buf.length, pos);
        read += n;
        return n;
      };
      await takeMaildrop(home, now(), 100, { pread: counting });
      sizes.push([d.bytes.length, read]);
      assert.deepEqual(dropped(home), []);
    }
    for (const [size, read] of sizes.slice(0, 2)) assert.ok(read <= size + 1024, `read ${read} bytes of a ${size}-byte file`);
    const [, garbage] = sizes[2]!;
    assert.ok(garbage <= (16 << 20) + 65536 + 1024, `read ${garbage} bytes of an envelope that never ends`);
    assert.equal(todo(home).length, 2);
  });
});
