import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./support/qm.ts";

describe("tsc --noEmit", { timeout: 300_000 }, () => {
  it("finds no type errors in cli/, core/, test/ and bench/ (strict)", { timeout: 180_000 }, () => {
    const r = spawnSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "--noEmit", "-p", ROOT], { encoding: "utf8", cwd: ROOT, timeout: 240_000 });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  });
});
