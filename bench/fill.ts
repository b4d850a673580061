// Fills a qm queue fast for the drain benchmarks: N messages of about SIZE
// bytes through submit() in-process (qmail-queue's paper path, fsync and all),
// CONC at a time. Not a test. Usage: node --import tsx bench/fill.ts HOME N SIZE RCPT [CONC]
import { submit } from "../core/io/queue/submit.ts";

const [home = "", nText = "1000", sizeText = "2048", rcpt = "", concText = "8"] = process.argv.slice(2);
const n = Number(nText);
const body = "x".repeat(Math.max(0, Number(sizeText) - 120)).replace(/(.{76})/g, "$1\n");
let next = 0;
let failed = 0;
async function worker(): Promise<void> {
  for (let i = next++; i < n; i = next++) {
    const msg = new TextEncoder().encode(`From: bench@example.test\nTo: ${rcpt}\nSubject: fill ${i}\n\n${body}\n`);
    const r = await submit(home, msg, { sender: "bench@example.test", recipients: [rcpt] });
    if (r.kind !== "ok") failed++;
  }
}
const t0 = performance.now();
await Promise.all(Array.from({ length: Number(concText) }, worker));
const s = (performance.now() - t0) / 1000;
process.stdout.write(`${n - failed} ${s.toFixed(3)}\n`);
if (failed > 0) process.exit(111);
