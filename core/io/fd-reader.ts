import { read } from "node:fs";

/**
 * An already-open descriptor as chunks, with plain read(2) calls: no stream
 * machinery, so a short-lived program reading stdin (qm inject, one process
 * per message) starts faster than through process.stdin.
 */
export async function* readFd(fd: number, size = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (;;) {
    const buf = new Uint8Array(size);
    const n = await new Promise<number>((resolve, reject) => read(fd, buf, 0, size, null, (err, got) => (err ? reject(err) : resolve(got))));
    if (n === 0) return;
    yield n === size ? buf : buf.subarray(0, n);
  }
}
