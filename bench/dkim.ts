// The cost of DKIM signing in qm remote / qm rspawn: the first pass over a
// mess file (read, CR LF, relaxed body hash, header kept) and the signatures,
// against a plain read of the same file. Run:
//   node --import tsx bench/dkim.ts [MB ...]        (default 1 30)
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openMessageFile } from "../core/io/remote/message.ts";
import { generateSigningKey } from "../core/io/dkim/keys.ts";
import { scanMessage, signatureHeader } from "../core/io/dkim/sign.ts";

const dir = mkdtempSync(join(tmpdir(), "qm-bench-dkim-"));
const rsa = { key: generateSigningKey("rsa", 2048).key, type: "rsa" as const };
const ed = { key: generateSigningKey("ed25519", 0).key, type: "ed25519" as const };
const line = "The quick brown fox jumps over the lazy dog, 0123456789 =?/+ \t  trailing  \n";

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}
try {
  for (const mb of (process.argv.slice(2).length ? process.argv.slice(2) : ["1", "30"]).map(Number)) {
    const path = join(dir, `m${mb}`);
    const body = line.repeat(Math.ceil((mb * 1024 * 1024) / line.length));
    writeFileSync(path, `From: a@example.org\nTo: b@example.net\nSubject: bench\n\n${body}`);
    const runs = mb >= 10 ? 3 : 10;
    const read: number[] = [];
    const sign: number[] = [];
    const skip: number[] = [];
    for (let i = 0; i < runs; i++) {
      const m1 = await openMessageFile(path);
      if (m1.kind !== "ok") throw new Error(m1.reason);
      read.push(await time(async () => { for await (const _ of m1.value.scan!()) void _; }));
      await m1.value.close();
      const m2 = await openMessageFile(path);
      if (m2.kind !== "ok") throw new Error(m2.reason);
      sign.push(await time(async () => {
        const s = await scanMessage(m2.value.scan!());
        if (s.kind !== "ok" || !s.value) throw new Error("no scan");
        for (const key of [rsa, ed]) signatureHeader(s.value, { domain: "example.org", selector: "s", key, time: 0 });
      }));
      await m2.value.close();
      const m3 = await openMessageFile(path);
      if (m3.kind !== "ok") throw new Error(m3.reason);
      skip.push(await time(() => scanMessage(m3.value.scan!(), () => false)));
      await m3.value.close();
    }
    const med = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1]!.toFixed(1);
    console.log(`${mb} MB: plain read ${med(read)} ms, first pass + RSA and Ed25519 signatures ${med(sign)} ms (median of ${runs}); From not listed (header only) ${med(skip)} ms`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
