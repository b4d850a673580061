import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { makeHome, runQueue, tempDir } from "../support/qm.ts";

// A small tmpfs makes "disk full" real. Mounting needs root (CI runs as root).
const mnt = join(tempDir("qm-tmpfs-"), "fs");
mkdirSync(mnt);
const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=3m", "tmpfs", mnt], { timeout: 60_000 }).status === 0;
after(() => { if (mounted) spawnSync("umount", ["-l", mnt], { timeout: 60_000 }); });

/** Message files under mess/N/ (the split directories themselves excluded). */
function messFiles(home: string): string[] {
  return readdirSync(join(home, "queue/mess"), { recursive: true }).map(String).filter((n) => n.includes("/"));
}

describe("a full disk", { skip: !mounted && "cannot mount a tmpfs here (needs root): disk-full test skipped", timeout: 300_000 }, () => {
  it("makes qm queue exit 53 and leaves nothing half-written in todo/, intd/ or mess/", async () => {
    const home = await makeHome();
    const moved = join(mnt, "qm");
    spawnSync("cp", ["-a", home, moved], { timeout: 60_000 });
    const big = Buffer.alloc(5 * 1024 * 1024, 120);
    const r = await runQueue(big, "Fa@b\0Tc@d\0\0", { QMHOME: moved });
    assert.equal(r.code, 53, r.stderr);
    assert.deepEqual(readdirSync(join(moved, "queue/todo")), []);
    assert.deepEqual(readdirSync(join(moved, "queue/intd")), []);
    assert.deepEqual(messFiles(moved), []);
    // and once space is there again, the queue works
    const small = await runQueue("Subject: ok\n\nfits\n", "Fa@b\0Tc@d\0\0", { QMHOME: moved });
    assert.equal(small.code, 0, small.stderr);
    assert.equal(readdirSync(join(moved, "queue/todo")).length, 1);
  });
});
