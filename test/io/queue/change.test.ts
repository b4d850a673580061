// The queue manager's side of a qctl request (handleRequest), driven by real
// `qm qctl` processes over the real control socket, on a real queue; the
// manager's hooks are recorded here instead of a running qm send.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { handleRequest, type ChangeOp, type ManagerHooks } from "../../../core/io/queue/change.ts";
import { listenControl } from "../../../core/io/queue/control.ts";
import { readMark } from "../../../core/io/queue/hold.ts";
import { asText } from "../../support/qm.ts";
import { fakeEnv, fakeHome, put, queueFiles, runBin, sendOnce } from "../../support/send-env.ts";

const T = { timeout: 120_000 };

describe("handleRequest() behind the control socket", { timeout: 300_000 }, () => {
  it("makes qctl's change between the manager's quiesce and resume, and answers qctl", T, async () => {
    const home = await fakeHome();
    const a = await put(home, "joe@example.test", ["tmp1@far.test"]);
    const b = await put(home, "joe@example.test", ["tmp2@far.test"]);
    assert.equal((await sendOnce(home)).code, 0);
    const q = join(home, "queue");
    const calls: string[] = [];
    let busy = false;
    const hooks: ManagerHooks = {
      quiesce: async (ids: readonly number[], op: ChangeOp) => (calls.push(`quiesce ${op} ${ids.join(",")}`), !busy),
      resume: (ids: readonly number[]) => void calls.push(`resume ${ids.join(",")}`),
    };
    const srv = await listenControl(q, (cmd) => handleRequest(cmd, { home, queue: q, nowMs: Date.now() }, hooks));
    assert.equal(srv.kind, "ok");
    try {
      const qctl = async (...args: string[]) => asText(await runBin(["qctl", ...args], fakeEnv(home)));
      const h = await qctl("hold", String(a));
      assert.deepEqual([h.code, h.stdout, h.stderr], [0, `held #${a}\n`, ""]);
      assert.equal(readMark(q, a), "hold");
      assert.deepEqual(calls.splice(0), [`quiesce hold ${a}`, `resume ${a}`]);

      const d = await qctl("delete", String(b), "999999");
      assert.equal(d.code, 100);
      assert.equal(d.stdout, `deleted #${b}\n`, "the message found is deleted all the same");
      assert.equal(d.stderr, "qm qctl: fatal: No such message in the queue: #999999. (#5.3.0)\n");
      assert.equal(queueFiles(home).some((f) => f.endsWith(`/${b}`)), false);

      busy = true;
      const r = await qctl("release", String(a));
      assert.equal(r.code, 111);
      assert.match(r.stderr, /under way; try again/);
      assert.equal(readMark(q, a), "hold", "nothing changed");
      busy = false;
      assert.equal((await qctl("release", String(a))).code, 0);
      assert.equal(existsSync(join(q, "hold", String(a % 23), String(a))), false);
    } finally {
      if (srv.kind === "ok") srv.value.close();
    }
  });
});
