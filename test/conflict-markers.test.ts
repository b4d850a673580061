import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./support/qm.ts";

// A merge left "<<<<<<< HEAD" in scripts/apt-packages.txt once: every package
// install of a fresh machine then failed as a whole, and the suite passed only
// where the packages were there already. No tracked file may hold a marker,
// and every line of the package list must be a package name.

describe("the repository", { timeout: 60_000 }, () => {
  it("holds no merge-conflict markers in any tracked file", () => {
    const files = spawnSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "latin1", timeout: 30_000 });
    if (files.status !== 0) return; // not a git checkout (an unpacked archive): nothing to check
    const bad: string[] = [];
    for (const f of files.stdout.split("\0").filter((x) => x !== "" && !x.endsWith(".png"))) {
      let text: string;
      try {
        text = readFileSync(join(ROOT, f), "latin1");
      } catch {
        continue; // removed in the work tree
      }
      if (/^(<{7}( |$)|>{7}( |$)|={7}$)/m.test(text) && !f.endsWith("conflict-markers.test.ts")) bad.push(f);
    }
    assert.deepEqual(bad, []);
  });
  it("lists only package names in scripts/apt-packages.txt", () => {
    const lines = readFileSync(join(ROOT, "scripts/apt-packages.txt"), "latin1").split("\n").filter((l) => l !== "" && !l.startsWith("#"));
    assert.ok(lines.length > 5);
    for (const l of lines) assert.match(l, /^[a-z0-9][a-z0-9.+-]*$/, l);
  });
});
