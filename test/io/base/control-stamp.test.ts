import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
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
