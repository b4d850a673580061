import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, constants, openSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { readFd } from "../../core/io/fd-reader.ts";
import { tempDir } from "../_qm.ts";

async function collect(fd: number, size?: number, blocking = false): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of readFd(fd, size, blocking)) parts.push(chunk);
  return Buffer.concat(parts);
}

describe("readFd()", () => {
  it("yields every byte of the descriptor, in order, across many chunks", async () => {
    const path = join(tempDir(), "data");
    const data = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 31) & 255));
    writeFileSync(path, data);
    const fd = openSync(path, "r");
    try {
      assert.ok((await collect(fd, 4096)).equals(data));
    } finally {
      closeSync(fd);
    }
  });
  it("ends at once on an empty descriptor", async () => {
    const path = join(tempDir(), "empty");
    writeFileSync(path, "");
    const fd = openSync(path, "r");
    try {
      assert.equal((await collect(fd)).length, 0);
    } finally {
      closeSync(fd);
    }
  });
  it("rejects on a descriptor that cannot be read", async () => {
    await assert.rejects(collect(987_654));
    await assert.rejects(collect(987_654, undefined, true));
  });
  it("blocking: the same bytes, read in this thread", async () => {
    const path = join(tempDir(), "data");
    const data = Buffer.from(Array.from({ length: 150_000 }, (_, i) => (i * 7) & 255));
    writeFileSync(path, data);
    const fd = openSync(path, "r");
    try {
      assert.ok((await collect(fd, 4096, true)).equals(data));
    } finally {
      closeSync(fd);
    }
  });
  it("blocking: a non-blocking pipe with nothing in it yet is waited on, not an error", async () => {
    const fifo = join(tempDir(), "fifo");
    execFileSync("mkfifo", [fifo]);
    const rfd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const wfd = openSync(fifo, constants.O_WRONLY);
    const later = setTimeout(() => {
      writeSync(wfd, "late bytes\n");
      closeSync(wfd);
    }, 60);
    try {
      assert.equal((await collect(rfd, undefined, true)).toString(), "late bytes\n");
    } finally {
      clearTimeout(later);
      closeSync(rfd);
    }
  });
});
