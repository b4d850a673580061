import { read, readSync } from "node:fs";

/**
 * An already-open descriptor as chunks, with plain read(2) calls: no stream
 * machinery, so a short-lived program reading stdin (qm inject, one process
 * per message) starts faster than through process.stdin. `blocking`: read in
 * this thread, for a program with nothing else to do; a descriptor that turns
 * out to be non-blocking (EAGAIN: nothing yet) is tried again a moment later.
 * Each read goes into one reused buffer and what came is copied out, so a
 * small message costs a small allocation.
 */
export async function* readFd(fd: number, size = 64 * 1024, blocking = false): AsyncGenerator<Uint8Array> {
  const buf = new Uint8Array(size);
  for (;;) {
    let n: number;
    if (blocking) {
      try {
        n = readSync(fd, buf, 0, size, null);
      } catch (err) {
        if ((err as { code?: string }).code !== "EAGAIN") throw err;
        await new Promise((resolve) => setTimeout(resolve, 2));
        continue;
      }
    } else n = await new Promise<number>((resolve, reject) => read(fd, buf, 0, size, null, (err, got) => (err ? reject(err) : resolve(got))));
    if (n === 0) return;
    yield buf.slice(0, n);
  }
}
