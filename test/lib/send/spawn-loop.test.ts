import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { runSpawnLoop, type SpawnLoop } from "../../../core/lib/send/spawn-loop.ts";
import { encodeCommand, encodeReload, reportReader, type Command } from "../../../core/lib/send/spawn-wire.ts";

async function* chunks(...parts: string[]): AsyncIterable<Uint8Array> {
  for (const p of parts) yield Buffer.from(p, "latin1");
}
/** Runs the loop over `parts`; the reports in the order written. */
async function run(loop: SpawnLoop, ...parts: string[]): Promise<string[]> {
  const out: string[] = [];
  const read = reportReader();
  await runSpawnLoop(chunks(...parts), (b) => out.push(...read(Buffer.from(b).toString("latin1")).map((r) => `${r.slot} ${r.letter}${r.text}`)), loop);
  return out;
}
const base: SpawnLoop = {
  refuse: (c) => (c.recipient.includes("@") ? null : { letter: "D", text: "no host" }),
  deliver: async (cs) => cs.map((c) => ({ letter: "K", text: `to ${c.recipient}` })),
  internalError: { letter: "Z", text: "internal" },
  clip: (t) => t.slice(0, 8),
};

describe("runSpawnLoop()", () => {
  it("reports every command: bad slots and refusals at once, deliveries as they finish, clipped", async () => {
    const got = await run(base, encodeCommand(1, "/m", "s", "a@x") + "x\0/m\0s\0b@x\0", encodeCommand(2, "/m", "s", "nohost") + encodeCommand(3, "/m", "s", "c@x"));
    assert.deepEqual(got.sort(), ["-1 ZBad slot", "1 Kto a@x", "2 Dno host", "3 Kto c@x"]);
  });
  it("waits for every delivery before it returns", async () => {
    let done = 0;
    const slow: SpawnLoop = { ...base, deliver: (cs) => new Promise((r) => setTimeout(() => (done++, r(cs.map(() => ({ letter: "K", text: "" })))), 30)) };
    const got = await run(slow, encodeCommand(1, "/m", "s", "a@x"), encodeCommand(2, "/m", "s", "b@x"));
    assert.equal(done, 2);
    assert.equal(got.length, 2);
  });
  it("hands the spawner's groups to deliver() and gives a group that threw the internal error", async () => {
    const seen: string[][] = [];
    const grouped: SpawnLoop = {
      ...base,
      group: (cs) => [cs.filter((c) => c.path === "/a"), cs.filter((c) => c.path !== "/a")],
      deliver: async (cs: readonly Command[]) => {
        seen.push(cs.map((c) => c.slot));
        if (cs[0]!.path === "/b") throw new Error("boom");
        return cs.map(() => ({ letter: "K" as const, text: "ok" }));
      },
    };
    const got = await run(grouped, [encodeCommand(1, "/a", "s", "a@x"), encodeCommand(2, "/b", "s", "b@x"), encodeCommand(3, "/a", "s", "c@x")].join(""));
    assert.deepEqual(seen, [["1", "3"], ["2"]]);
    assert.deepEqual(got.sort(), ["1 Kok", "2 Zinternal", "3 Kok"]);
  });
  it("reload: commands before it keep the old controls, those after it get the new ones, and it has no report", async () => {
    let version = 1;
    const seen: string[] = [];
    const loop: SpawnLoop = {
      ...base,
      reload: () => void version++,
      deliver: (cs) => {
        const v = version; // what a spawner reads when the delivery starts
        return Promise.resolve(cs.map((c) => (seen.push(`${c.slot}:v${v}`), { letter: "K" as const, text: `v${v}` })));
      },
    };
    const got = await run(loop, encodeCommand(1, "/m", "s", "a@x") + encodeReload() + encodeCommand(2, "/m", "s", "b@x"), encodeReload() + encodeCommand(3, "/m", "s", "c@x"));
    assert.deepEqual(seen, ["1:v1", "2:v2", "3:v3"]);
    assert.deepEqual(got.sort(), ["1 Kv1", "2 Kv2", "3 Kv3"]);
  });
  it("a reload slot with anything in its fields is a bad slot; a spawner without reload ignores the command", async () => {
    assert.deepEqual(await run(base, "reload\0/m\0s\0a@x\0"), ["-1 ZBad slot"]);
    assert.deepEqual(await run(base, encodeReload() + encodeCommand(1, "/m", "s", "a@x")), ["1 Kto a@x"]);
  });
  it("once qm send has died, starts nothing more and returns without waiting for deliveries under way", async () => {
    let dead = false;
    const started: string[] = [];
    let release!: () => void;
    const hang = new Promise<void>((r) => (release = r));
    const loop: SpawnLoop = {
      ...base,
      orphaned: () => dead,
      deliver: async (cs) => {
        started.push(...cs.map((c) => c.slot));
        if (cs[0]!.slot === "1") {
          dead = true; // qm send is killed while slot 1 is under way
          await hang;
        }
        return cs.map(() => ({ letter: "K" as const, text: "" }));
      },
    };
    const got = await run(loop, encodeCommand(1, "/m", "s", "a@x"), encodeCommand(2, "/m", "s", "b@x") + encodeCommand(3, "/m", "s", "nohost"));
    assert.deepEqual(started, ["1"], "commands read after the death are not started");
    assert.deepEqual(got, ["3 Dno host"], "no report waited for (a refusal costs nothing)");
    release();
  });
});
