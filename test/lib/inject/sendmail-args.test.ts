import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { injectEnv, parseSendmailArgs, personality, smtpEnv, type SendmailPlan } from "../../../core/lib/inject/sendmail-args.ts";
import { cpuTimed } from "../../support/fuzz.ts";

function plan(argv: readonly string[]): SendmailPlan {
  const r = parseSendmailArgs(argv);
  assert.equal(r.kind, "ok", JSON.stringify(r));
  return (r as { value: SendmailPlan }).value;
}
function refused(argv: readonly string[]): string {
  const r = parseSendmailArgs(argv);
  assert.equal(r.kind, "perm", `expected refusal of ${JSON.stringify(argv)}`);
  return (r as { reason: string }).reason;
}

describe("personality()", () => {
  const CASES = [
    ["/usr/sbin/sendmail", "sendmail"],
    ["/usr/lib/sendmail", "sendmail"],
    ["mailq", "mailq"],
    ["/usr/bin/newaliases", "newaliases"],
    ["/usr/local/bin/qm", null],
    ["/work/cli/qm.ts", null],
    ["sendmail.postfix", null],
    ["/x/sendmail/qm", null],
    ["constructor", null],
    ["__proto__", null],
    ["", null],
  ] as const;
  for (const [path, want] of CASES) {
    it(`maps ${JSON.stringify(path)} to ${want}`, () => assert.equal(personality(path), want));
  }
});

describe("parseSendmailArgs()", () => {
  it("takes recipients from the arguments only without -t", () => {
    assert.deepEqual(plan(["bob@example.org", "carol"]), { kind: "inject", mode: "a", sender: null, fullName: null, recipients: ["bob@example.org", "carol"] });
  });
  it("takes recipients from the header and the arguments with -t", () => {
    assert.deepEqual(plan(["-t", "-i"]), { kind: "inject", mode: "H", sender: null, fullName: null, recipients: [] });
  });
  it("reads -f and -F attached, separate and bundled", () => {
    const CASES = [
      [["-fme@x.org", "-FMy Name", "b"], "me@x.org", "My Name"],
      [["-f", "me@x.org", "-F", "My Name", "b"], "me@x.org", "My Name"],
      [["-tif", "me@x.org", "b"], "me@x.org", null],
      [["-r", "me@x.org", "b"], "me@x.org", null],
      [["-f", "", "b"], "", null],
    ] as const;
    for (const [argv, sender, name] of CASES) {
      const p = plan(argv);
      assert.equal(p.kind, "inject");
      if (p.kind !== "inject") continue;
      assert.equal(p.sender, sender, argv.join(" "));
      assert.equal(p.fullName, name, argv.join(" "));
      assert.deepEqual(p.recipients, ["b"]);
    }
  });
  it("accepts and ignores the flags sendmail users pass out of habit", () => {
    const p = plan(["-v", "-i", "-oi", "-oem", "-odb", "-om", "-o", "i", "-B8BITMIME", "-B", "7BIT", "-x", "-m", "-eq", "-pfoo", "-Ex", "-J", "-bm", "-Ofoo=bar", "rcpt"]);
    assert.deepEqual(p, { kind: "inject", mode: "a", sender: null, fullName: null, recipients: ["rcpt"] });
  });
  it("picks the modes -bs, -bp, -bi, -q", () => {
    assert.deepEqual(plan(["-bs"]), { kind: "smtp" });
    assert.deepEqual(plan(["-b", "p"]), { kind: "list" });
    assert.deepEqual(plan(["-bi"]), { kind: "newaliases" });
    assert.deepEqual(plan(["-q"]), { kind: "run" });
    assert.deepEqual(plan(["-v", "-q"]), { kind: "run" });
  });
  it("stops at -- and at the first non-option, so dash-leading addresses are recipients", () => {
    const a = plan(["-i", "--", "-t", "-bs"]);
    assert.deepEqual(a, { kind: "inject", mode: "a", sender: null, fullName: null, recipients: ["-t", "-bs"] });
    const b = plan(["bob", "-t"]);
    assert.deepEqual(b, { kind: "inject", mode: "a", sender: null, fullName: null, recipients: ["bob", "-t"] });
    assert.deepEqual(plan(["-"]), { kind: "inject", mode: "a", sender: null, fullName: null, recipients: ["-"] });
  });
  it("takes -N, -R and -V (RFC 3461) for every recipient", () => {
    const r = parseSendmailArgs(["-N", "success,delay", "-Rhdrs", "-V", "id 42", "b@x"]);
    assert.ok(r.kind === "ok" && r.value.kind === "inject");
    assert.deepEqual(r.value.dsn, { notify: ["SUCCESS", "DELAY"], ret: "HDRS", envid: "id 42" });
    const plain = parseSendmailArgs(["b@x"]);
    assert.ok(plain.kind === "ok" && plain.value.kind === "inject" && plain.value.dsn === undefined);
  });
  it("refuses bad -N, -R and -V values", () => {
    assert.match(refused(["-N", "never,success", "b"]), /-N needs never/);
    assert.match(refused(["-Nsometimes", "b"]), /-N needs never/);
    assert.match(refused(["-R", "body", "b"]), /-R needs full or hdrs/);
    assert.match(refused(["-V", "x".repeat(101), "b"]), /-V needs an envelope id of 1 to 100/);
    assert.match(refused(["-V", "tab\there", "b"]), /-V needs/);
    assert.match(refused(["-N"]), /-N needs a value/);
  });
  it("refuses unknown flags, unknown -b modes, -q with an interval and missing values", () => {
    assert.match(refused(["-X"]), /Unsupported option -X/);
    assert.match(refused(["-tX"]), /Unsupported option -X/);
    assert.match(refused(["-bd"]), /Unsupported mode -bd/);
    assert.match(refused(["-bt"]), /Unsupported mode -bt/);
    assert.match(refused(["-q30m"]), /-q30m/);
    assert.match(refused(["-f"]), /-f needs a value/);
    assert.match(refused(["-t", "-F"]), /-F needs a value/);
    assert.match(refused(["--help"]), /Unsupported option --/);
  });
  it("names hostile option bytes printably", () => {
    assert.match(refused(["-\x00"]), /-\\x00/);
    assert.match(refused(["-\n"]), /-\\x0a/);
    assert.match(refused(["-\x7f"]), /-\\x7f/);
    assert.doesNotMatch(refused(["-\x1b[31m"]), /\x1b/);
  });
  it("passes hostile recipients through untouched (inject parses them)", () => {
    const evil = ["a\nb@x", "a\0b", "é@ü.example", "x".repeat(100_000)];
    const p = plan(["-i", ...evil]);
    assert.equal(p.kind, "inject");
    if (p.kind === "inject") assert.deepEqual(p.recipients, evil);
  });
  it("handles 100 000 arguments in bounded time", () => {
    const argv = [...Array.from({ length: 50_000 }, () => "-oi"), ...Array.from({ length: 50_000 }, (_, i) => `r${i}`)];
    const { value: p, ms } = cpuTimed(() => plan(argv));
    assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms of CPU`);
    assert.equal(p.kind === "inject" ? p.recipients.length : -1, 50_000);
  });
  it("ignores the arguments when called as mailq or newaliases", () => {
    assert.deepEqual(parseSendmailArgs(["-v", "-X"], "mailq"), { kind: "ok", value: { kind: "list" } });
    assert.deepEqual(parseSendmailArgs([], "newaliases"), { kind: "ok", value: { kind: "newaliases" } });
  });
});

describe("injectEnv()", () => {
  it("replaces the sender's identity with -f, split at the last @", () => {
    const env = injectEnv({ sender: "a@b@host.example", fullName: null }, { QMAILNAME: "x", MAILNAME: "y", NAME: "z", MAILHOST: "h", QMAILHOST: "q", USER: "root", PATH: "/bin" });
    assert.deepEqual(env, { USER: "root", PATH: "/bin", QMAILUSER: "a@b", QMAILHOST: "host.example" });
  });
  it("leaves QMAILHOST unset for a sender without @, and keeps -F's name next to -f", () => {
    assert.deepEqual(injectEnv({ sender: "bob", fullName: "Bob B" }, { QMAILHOST: "q" }), { QMAILUSER: "bob", QMAILNAME: "Bob B" });
  });
  it("changes nothing without -f and -F", () => {
    assert.deepEqual(injectEnv({ sender: null, fullName: null }, { NAME: "n" }), { NAME: "n" });
  });
});

describe("smtpEnv()", () => {
  it("makes a trusted local client when PROTO is unset", () => {
    const env = smtpEnv({ PATH: "/bin" });
    assert.equal(env.RELAYCLIENT, "");
    assert.equal(env.TCPREMOTEIP, "127.0.0.1");
    assert.equal(env.TCPREMOTEINFO, "sendmail-bs");
    assert.equal(env.PROTO, "TCP");
    assert.equal(env.DATABYTES, "0");
  });
  it("keeps the environment of a caller that set PROTO (tcpserver)", () => {
    assert.deepEqual(smtpEnv({ PROTO: "TCP", TCPREMOTEIP: "192.0.2.1" }), { PROTO: "TCP", TCPREMOTEIP: "192.0.2.1" });
  });
});
