import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { qmCommand, ROOT, runQm, tempDir } from "../support/qm.ts";

// qm newaliases compiles an aliases file into a cdb; qm fastforward delivers
// through it. The queue is a QMAILQUEUE stub recording message and envelope.
const ROOT_RUN = process.getuid?.() === 0;
const UID = ROOT_RUN ? 65534 : process.getuid!();
const MSG = "Subject: al\n\nbody\n";
const tinycdb = spawnSync("cdb", ["-h"], { timeout: 60_000 }).error === undefined;

function setup(aliases: string) {
  const top = tempDir("qm-alias-");
  chmodSync(top, 0o755);
  const qm = join(top, "qm");
  for (const d of ["", "control", "alias"]) mkdirSync(join(qm, d), { mode: 0o755 });
  writeFileSync(join(qm, "control/me"), "mx.example.test\n");
  writeFileSync(join(qm, "control/defaultdomain"), "example.test\n");
  const spool = join(top, "spool");
  mkdirSync(spool, { mode: 0o777 });
  chmodSync(spool, 0o777);
  chownSync(join(qm, "alias"), UID, UID);
  const stub = join(top, "fake-queue");
  writeFileSync(stub, `#!/bin/sh\ncat > ${spool}/msg\ncat 0<&1 > ${spool}/env\n`, { mode: 0o755 });
  const file = join(top, "aliases");
  writeFileSync(file, aliases);
  writeFileSync(join(qm, "control/aliases"), `${file}\n`);
  return { qm, spool, file, top, env: { QMHOME: qm, QMAILQUEUE: stub } };
}
function ff(s: ReturnType<typeof setup>, rcpt: string, sender = "s@x.org", extra: string[] = []) {
  return runQm(["fastforward", ...extra], { input: MSG, env: { ...s.env, RECIPIENT: rcpt, SENDER: sender, DTLINE: `Delivered-To: ${rcpt}\n`, HOME: s.top } });
}
const envOf = (s: ReturnType<typeof setup>): string => readFileSync(join(s.spool, "env"), "latin1");

const ALIASES = `# comment line
  continued comment
postmaster: root
root: admin@elsewhere.example,
  "Quoted Person" <qp@elsewhere.example>
"quoted name": local1
staff: :include:staff.list, boss
owner-staff: boss@elsewhere.example
loop1: loop2
loop2: loop1, end@x.example
inc-a: :include:a.list
prog: "|echo ran >> ${"$"}HOME/prog.out"
file: /FILE
`;

describe("qm newaliases", { timeout: 300_000 }, () => {
  it("compiles continuation lines, quoted names, owner- lists into a cdb other tools read", { skip: false }, async () => {
    const s = setup(ALIASES.replace("/FILE", "/tmp/unused"));
    const r = await runQm(["newaliases"], { env: s.env });
    assert.equal(r.code, 0, r.stderr.toString());
    assert.ok(existsSync(`${s.file}.cdb`));
    if (!tinycdb) return;
    const get = (k: string): string => spawnSync("cdb", ["-q", `${s.file}.cdb`, k], { encoding: "latin1", timeout: 60_000 }).stdout;
    assert.equal(get(":root@"), "&admin@elsewhere.example\0&qp@elsewhere.example\0");
    assert.equal(get(":quoted name@"), "&local1@mx.example.test\0");
    assert.equal(get("?staff@"), "owner-staff@mx.example.test");
    assert.equal(get(":staff@"), "./staff.list\0&boss@mx.example.test\0");
  });
  it("leaves the old cdb alone on a syntax error", async () => {
    const s = setup("a: b@c\n");
    assert.equal((await runQm(["newaliases"], { env: s.env })).code, 0);
    const before = readFileSync(`${s.file}.cdb`);
    writeFileSync(s.file, "broken line without colon\n");
    const r = await runQm(["newaliases"], { env: s.env });
    assert.equal(r.code, 100);
    assert.deepEqual(readFileSync(`${s.file}.cdb`), before);
  });
});

describe("qm fastforward", { timeout: 300_000 }, () => {
  it("expands aliases to one queue injection with the owner as sender", async () => {
    const s = setup(ALIASES);
    writeFileSync(join(s.top, "staff.list"), "# staff\nann\nbob@b.example\n");
    await runQm(["newaliases"], { env: s.env });
    const r = await ff(s, "staff@mx.example.test");
    assert.equal(r.code, 0, r.stderr.toString());
    assert.equal(envOf(s), "Fowner-staff@mx.example.test\0Tann@mx.example.test\0Tbob@b.example\0Tboss@mx.example.test\0\0");
    assert.equal(readFileSync(join(s.spool, "msg"), "latin1"), `Delivered-To: staff@mx.example.test\n${MSG}`);
    await ff(s, "Postmaster@mx.example.test");
    assert.equal(envOf(s), "Fs@x.org\0Tadmin@elsewhere.example\0Tqp@elsewhere.example\0\0");
  });
  it("ends alias cycles and include loops", async () => {
    const s = setup(ALIASES);
    writeFileSync(join(s.top, "a.list"), ":include:./b.list\nx@a.example\n");
    writeFileSync(join(s.top, "b.list"), "./a.list\ny@b.example\n");
    await runQm(["newaliases"], { env: s.env });
    assert.equal((await ff(s, "loop1@mx.example.test")).code, 0);
    assert.equal(envOf(s), "Fs@x.org\0Tend@x.example\0\0");
    assert.equal((await ff(s, "inc-a@mx.example.test")).code, 0);
    assert.equal(envOf(s), "Fs@x.org\0Ty@b.example\0Tx@a.example\0\0");
  });
  it("runs programs, appends to files, and bounces unknown names (or passes with -p)", async () => {
    const s = setup(ALIASES.replace("/FILE", "/tmp/qm-never"));
    const mbox = join(s.top, "alias-file");
    writeFileSync(s.file, ALIASES.replace("/FILE", mbox));
    await runQm(["newaliases"], { env: s.env });
    assert.equal((await ff(s, "prog@mx.example.test")).code, 0);
    assert.equal(readFileSync(join(s.top, "prog.out"), "latin1"), "ran\n");
    assert.equal((await ff(s, "file@mx.example.test")).code, 0);
    assert.match(readFileSync(mbox, "latin1"), /^From s@x\.org .*\nDelivered-To: file@mx.example.test\nSubject: al\n\nbody\n\n$/);
    const r = await ff(s, "nobody-here@mx.example.test");
    assert.equal(r.code, 100);
    assert.match(r.stderr.toString(), /#5\.1\.1/);
    assert.equal((await ff(s, "nobody-here@mx.example.test", "s@x.org", ["-p"])).code, 0);
    assert.equal((await ff(s, "prog@mx.example.test", "s@x.org", ["-p"])).code, 99);
  });
  it("is reached from the alias user's .qmail-default", async () => {
    const s = setup(ALIASES);
    await runQm(["newaliases"], { env: s.env });
    const { cmd, args } = qmCommand();
    const wrapper = join(s.top, "qmbin");
    writeFileSync(wrapper, `#!/bin/sh\ncd '${ROOT}' || exit 111\nexec ${[cmd, ...args].map((a) => `'${a}'`).join(" ")} "$@"\n`, { mode: 0o755 });
    writeFileSync(join(s.qm, "alias/.qmail-default"), `|${wrapper} fastforward -d\n`);
    const r = await runQm(["local", "--", "alias", join(s.qm, "alias"), "root", "-", "root", "mx.example.test", "s@x.org", "./Maildir/"], { input: MSG, env: s.env });
    assert.equal(r.code, 0, r.stdout.toString());
    assert.equal(envOf(s), "Fs@x.org\0Tadmin@elsewhere.example\0Tqp@elsewhere.example\0\0");
  });
});
