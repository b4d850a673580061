import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { changedControls, stampControls } from "../../../core/io/base/control-stamp.ts";
import { tempDir } from "../../support/qm.ts";

describe("stampControls() and changedControls()", () => {
  const home = tempDir();
  mkdirSync(join(home, "control"));
  const put = (name: string, text: string) => writeFileSync(join(home, "control", name), text);
  const NAMES = ["me", "locals", "smtproutes", "helohost"];

  it("names the files whose bytes changed, appeared or went, in the order asked, and nothing else", () => {
    put("me", "a.test\n");
    put("locals", "a.test\n");
    put("smtproutes", ":relay.test\n");
    const before = stampControls(home, NAMES);
    assert.deepEqual(changedControls(before, stampControls(home, NAMES)), []);
    put("locals", "b.test\n"); // same size, same second: still seen
    put("helohost", "h.test\n");
    rmSync(join(home, "control", "smtproutes"));
    put("me", "a.test\n"); // written again, same bytes: not a change
    assert.deepEqual(changedControls(before, stampControls(home, NAMES)), ["locals", "smtproutes", "helohost"]);
  });

  it("a file that cannot be read is a state of its own, not a crash", { skip: process.getuid?.() === 0 ? "root reads any file" : false }, () => {
    put("me", "a.test\n");
    const before = stampControls(home, ["me"]);
    chmodSync(join(home, "control", "me"), 0);
    try {
      assert.deepEqual(changedControls(before, stampControls(home, ["me"])), ["me"]);
    } finally {
      chmodSync(join(home, "control", "me"), 0o644);
    }
  });

  it("a directory where a file should be is a state too", () => {
    mkdirSync(join(home, "control", "dir"));
    assert.match(stampControls(home, ["dir"]).get("dir")!, /^error /);
  });
});

describe("each part's reload list names every control file it reads", () => {
  const ROOT = new URL("../../..", import.meta.url).pathname;
  /** The control file names a source file reads: readControl*(home, "name") and join(home, "control", "name"). */
  const readBy = (...files: string[]): Set<string> => {
    const out = new Set<string>();
    for (const f of files) {
      const text = readFileSync(join(ROOT, f), "latin1");
      for (const m of text.matchAll(/readControl\w*\((?:home|qmhome), "([^"]+)"|join\((?:home|qmhome), "control", "([^"]+)"\)/g)) out.add(m[1] ?? m[2]!);
    }
    return out;
  };
  const missing = (read: Set<string>, list: readonly string[]) => [...read].filter((n) => !list.includes(n));

  it("qm send", async () => {
    const { SEND_FILES } = await import("../../../core/io/send/controls.ts");
    const read = readBy("core/io/send/controls.ts");
    assert.ok(read.has("locals") && read.has("concurrencyremote"), [...read].join(" "));
    assert.deepEqual(missing(read, SEND_FILES), []);
  });
  it("qm rspawn", async () => {
    const { RSPAWN_FILES } = await import("../../../core/prog/rspawn.ts");
    const read = readBy("core/prog/rspawn.ts", "core/io/remote/delivery.ts", "core/io/remote/resolv.ts", "core/io/remote/smtpauth.ts", "core/io/tls/controls.ts", "core/io/dkim/signer.ts");
    assert.ok(read.has("smtproutes") && read.has("tlsca") && read.has("smtpauth") && read.has("dkimsign"), [...read].join(" "));
    assert.deepEqual(missing(read, RSPAWN_FILES), []);
  });
  it("qm smtpd", async () => {
    const { SMTPD_FILES } = await import("../../../core/io/smtpd/controls.ts");
    const read = readBy("core/io/smtpd/controls.ts", "core/io/dkim/inbound.ts");
    for (const n of ["locals", "virtualdomains", "percenthack", "envnoathost"]) read.add(n); // through send's readRules()
    assert.ok(read.has("rcpthosts") && read.has("servercert.pem"), [...read].join(" "));
    assert.deepEqual(missing(read, SMTPD_FILES), []);
  });
});
