import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, constants, openSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { readFd } from "../../../core/io/inject/fd-reader.ts";
import { tempDir } from "../../support/qm.ts";

async function collect(fd: number, size?: number, blocking = false): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of readFd(fd, size, blocking)) parts.push(chunk);
  return Buffer.concat(parts);
}

/** `data` written to a file, then read back through readFd() from an open descriptor. */
async function readBack(data: Uint8Array | string, size?: number, blocking = false): Promise<Buffer> {
  const path = join(tempDir(), "data");
  writeFileSync(path, data);
  const fd = openSync(path, "r");
  try {
    return await collect(fd, size, blocking);
  } finally {
    closeSync(fd);
  }
}

describe("readFd()", { timeout: 120_000 }, () => {
  it("yields every byte of the descriptor, in order, across many chunks", async () => {
    const data = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 31) & 255));
    assert.ok((await readBack(data, 4096)).equals(data));
  });
  it("ends at once on an empty descriptor", async () => {
    assert.equal((await readBack("")).length, 0);
  });
  it("rejects on a descriptor that cannot be read", async () => {
    await assert.rejects(collect(987_654));
    await assert.rejects(collect(987_654, undefined, true));
  });
  it("blocking: the same bytes, read in this thread", async () => {
    const data = Buffer.from(Array.from({ length: 150_000 }, (_, i) => (i * 7) & 255));
    assert.ok((await readBack(data, 4096, true)).equals(data));
  });
  it("blocking: a non-blocking pipe with nothing in it yet is waited on, not an error", async () => {
    const fifo = join(tempDir(), "fifo");
    execFileSync("mkfifo", [fifo], { timeout: 60_000 });
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
