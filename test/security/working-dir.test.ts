// The standalone binary must not take orders from the directory it is run in.
// A bun-compiled program autoloads .env and bunfig.toml from its working
// directory unless built not to (scripts/build.sh): root running `sendmail`
// from a user's directory would then queue mail through a QMAILQUEUE the user
// chose, or run the user's code before ours.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { asText, fastQm, makeHome, runProcess, tempDir } from "../support/qm.ts";

describe("the standalone binary ignores its working directory", { timeout: 300_000 }, () => {
  let qm = "";
  before(async () => {
    qm = await fastQm();
  });

  it("neither .env nor bunfig.toml in the working directory changes what qm does", async () => {
    const home = await makeHome();
    const evil = tempDir("qm-evil-cwd-");
    const ran = join(evil, "ran");
    const fakeQueue = join(evil, "fake-queue");
    writeFileSync(fakeQueue, `#!/bin/sh\ntouch ${ran}.queue\nexit 0\n`);
    chmodSync(fakeQueue, 0o755);
    writeFileSync(join(evil, "preload.js"), `require("node:fs").writeFileSync(${JSON.stringify(`${ran}.preload`)}, "");\n`);
    writeFileSync(join(evil, ".env"), `QMAILQUEUE=${fakeQueue}\nQMHOME=${join(evil, "elsewhere")}\n`);
    writeFileSync(join(evil, "bunfig.toml"), `preload = ["./preload.js"]\n`);

    const r = asText(await runProcess(qm, ["inject", "--", "alice@example.test"], { input: "Subject: cwd\n\nbody\n", env: { QMHOME: home }, spawn: { cwd: evil } }));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(existsSync(`${ran}.queue`), false, "QMAILQUEUE from .env was used");
    assert.equal(existsSync(`${ran}.preload`), false, "bunfig.toml's preload ran");
    assert.equal(readdirSync(join(home, "queue", "todo")).length, 1, "the message is in the real queue");
  });
});
