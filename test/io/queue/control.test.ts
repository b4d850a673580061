import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, lstatSync, mkdirSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import { askControl, controlPath, listenControl } from "../../../core/io/queue/control.ts";
import { MAX_REQUEST, type Reply } from "../../../core/lib/queue/control-wire.ts";
import type { QctlCommand } from "../../../core/lib/queue/qctl.ts";
import { tempDir } from "../../support/qm.ts";

const T = { timeout: 30_000 };

function queue(): string {
  const top = tempDir();
  chmodSync(top, 0o755);
  const q = join(top, "queue");
  mkdirSync(join(q, "lock"), { recursive: true, mode: 0o751 });
  chmodSync(q, 0o751);
  chmodSync(join(q, "lock"), 0o751);
  return q;
}

/** Raw bytes to the socket; the reply line, or "" when it closes without one. */
function raw(q: string, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const s = createConnection(controlPath(q));
    let buf = "";
    s.on("data", (b) => (buf += b.toString("latin1")));
    s.on("error", () => resolve(buf));
    s.on("close", () => resolve(buf));
    s.on("connect", () => s.write(bytes));
  });
}

describe("the control socket", { timeout: 300_000 }, () => {
  it("carries a request to the handler in turn and its reply back", T, async () => {
    const q = queue();
    const seen: QctlCommand[] = [];
    const srv = await listenControl(q, async (cmd) => {
      seen.push(cmd);
      await new Promise((r) => setTimeout(r, 20));
      return { code: 0, out: `did ${cmd.op} ${cmd.sel.ids.join(",")}\n`, err: "" } satisfies Reply;
    });
    assert.equal(srv.kind, "ok");
    try {
      const [a, b] = await Promise.all([askControl(q, ["hold", "12"]), askControl(q, ["delete", "--", "13"])]);
      assert.deepEqual(a, { kind: "ok", value: { kind: "reply", reply: { code: 0, out: "did hold 12\n", err: "" } } });
      assert.deepEqual(b, { kind: "ok", value: { kind: "reply", reply: { code: 0, out: "did delete 13\n", err: "" } } });
      assert.deepEqual(seen.map((c) => c.op).sort(), ["delete", "hold"]);
      assert.equal(lstatSync(join(q, "lock", "control")).mode & 0o777, 0o700);
      assert.equal(lstatSync(controlPath(q)).mode & 0o777, 0o600);
    } finally {
      if (srv.kind === "ok") srv.value.close();
    }
  });

  it("answers 100 to requests that do not parse, without calling the handler", T, async () => {
    const q = queue();
    let calls = 0;
    const srv = await listenControl(q, async () => (calls++, { code: 0, out: "", err: "" }));
    assert.equal(srv.kind, "ok");
    try {
      for (const [bytes, re] of [
        ["not json\n", /not JSON/],
        ['{"argv":"hold 1"}\n', /no argv/],
        ['{"argv":[1]}\n', /no argv/],
        ["null\n", /no argv/],
        ['{"argv":["constructor"]}\n', /Unknown operation/],
        ['{"argv":["hold","0"]}\n', /Not a message id/],
        [`${"x".repeat(MAX_REQUEST + 10)}`, /Request too long/],
      ] as const) {
        const line = await raw(q, bytes);
        const r = JSON.parse(line) as Reply;
        assert.equal(r.code, 100, bytes.slice(0, 30));
        assert.match(r.err, re);
      }
      assert.equal(calls, 0);
    } finally {
      if (srv.kind === "ok") srv.value.close();
    }
  });

  it("replaces a stale socket a killed queue manager left, and says absent when nobody listens", T, async () => {
    const q = queue();
    assert.deepEqual(await askControl(q, ["flush"]), { kind: "ok", value: { kind: "absent" } });
    mkdirSync(join(q, "lock", "control"), { mode: 0o700 });
    writeFileSync(controlPath(q), "stale");
    assert.deepEqual(await askControl(q, ["flush"]), { kind: "ok", value: { kind: "absent" } });
    const srv = await listenControl(q, async () => ({ code: 111, out: "", err: "busy" }));
    assert.equal(srv.kind, "ok");
    try {
      assert.deepEqual(await askControl(q, ["flush"]), { kind: "ok", value: { kind: "reply", reply: { code: 111, out: "", err: "busy" } } });
    } finally {
      if (srv.kind === "ok") srv.value.close();
    }
  });

  it("refuses any other user with EACCES, which the client reports as a permanent refusal", { ...T, skip: process.getuid?.() !== 0 ? "needs root to switch to another uid" : false }, async () => {
    const q = queue();
    const srv = await listenControl(q, async () => ({ code: 0, out: "", err: "" }));
    assert.equal(srv.kind, "ok");
    try {
      const script = `const s=require("net").createConnection(${JSON.stringify(controlPath(q))});s.on("error",e=>{console.log(e.code);process.exit(0)});s.on("connect",()=>{console.log("connected");process.exit(0)})`;
      const r = spawnSync(process.execPath, ["-e", script], { uid: 65534, gid: 65534, encoding: "utf8", timeout: 10_000 });
      assert.equal(r.stdout.trim(), "EACCES", r.stderr);
    } finally {
      if (srv.kind === "ok") srv.value.close();
    }
  });
});
