import { createReadStream } from "node:fs";
import { mkdtemp, open, rm, type FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Holds a message whose envelope has not arrived yet (QMQP sends the message
 * first): in memory up to `inMemory` bytes, then in a private temporary file,
 * so memory stays bounded whatever the message size.
 */
export class Spool {
  #chunks: Uint8Array[] = [];
  #size = 0;
  #dir: string | null = null;
  #fh: FileHandle | null = null;
  readonly #inMemory: number;

  constructor(inMemory = 1024 * 1024) {
    this.#inMemory = inMemory;
  }

  get size(): number {
    return this.#size;
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.#size += chunk.length;
    if (this.#fh) {
      await this.#fh.write(chunk);
      return;
    }
    this.#chunks.push(chunk);
    if (this.#size <= this.#inMemory) return;
    this.#dir = await mkdtemp(join(tmpdir(), "qm-qmqpd-"));
    this.#fh = await open(join(this.#dir, "message"), "w+", 0o600);
    for (const c of this.#chunks) await this.#fh.write(c);
    this.#chunks = [];
  }

  /** The whole message: bytes when small, a new stream of the file (each call) when large. */
  async message(): Promise<Uint8Array | AsyncIterable<Uint8Array>> {
    if (!this.#dir) return this.#chunks.length === 1 ? (this.#chunks[0] as Uint8Array) : Buffer.concat(this.#chunks);
    await this.#fh?.close();
    this.#fh = null;
    return createReadStream(join(this.#dir, "message"));
  }

  async dispose(): Promise<void> {
    await this.#fh?.close().catch(() => {});
    if (this.#dir) await rm(this.#dir, { recursive: true, force: true }).catch(() => {});
    this.#chunks = [];
  }
}
