import { connect, type Socket } from "node:net";
import type { Endpoint } from "../../lib/smtpd/filter-line.ts";

/**
 * The connection to one policy server or milter: connect within a time
 * limit, write, and read what has come with a deadline. Nothing here waits
 * without a timer, and a peer that stops reading cannot make a write wait
 * forever either (the caller's read deadline ends the exchange, and close()
 * destroys the socket). Input is taken as it comes; the caller bounds how
 * much it keeps (its packet or answer limit).
 */
export class FilterSocket {
  #sock: Socket;
  #chunks: Uint8Array[] = [];
  #closed = false;
  #wake: (() => void) | null = null;

  private constructor(sock: Socket) {
    this.#sock = sock;
    sock.on("data", (b: Buffer) => {
      this.#chunks.push(b);
      this.#wakeUp();
    });
    const end = () => {
      this.#closed = true;
      this.#wakeUp();
    };
    sock.on("end", end);
    sock.on("close", end);
    sock.on("error", end);
  }

  #wakeUp(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  /** Connects to `to`; the socket, or why not (refused, no such socket, no answer within timeoutMs). */
  static open(to: Endpoint, timeoutMs: number): Promise<FilterSocket | string> {
    return new Promise((resolve) => {
      const sock = to.kind === "unix" ? connect({ path: to.path }) : connect({ host: to.host, port: to.port });
      const timer = setTimeout(() => done(`no connection within ${Math.round(timeoutMs / 1000)} s`), timeoutMs);
      const done = (why: string | null) => {
        clearTimeout(timer);
        sock.off("connect", good);
        sock.off("error", bad);
        if (why === null) return resolve(new FilterSocket(sock));
        sock.on("error", () => {});
        sock.destroy();
        resolve(why);
      };
      const good = () => done(null);
      const bad = (e: Error & { code?: string }) => done(`cannot connect: ${e.code ?? e.message}`);
      sock.once("connect", good);
      sock.once("error", bad);
    });
  }

  write(bytes: Uint8Array): void {
    if (!this.#closed) this.#sock.write(bytes);
  }

  /** What arrived since the last read (waiting for something until `deadline`, a Date.now() time); "closed" once the peer is gone and all is read. */
  async read(deadline: number): Promise<Uint8Array | "timeout" | "closed"> {
    if (this.#chunks.length === 0 && !this.#closed) {
      const wait = deadline - Date.now();
      if (wait <= 0) return "timeout";
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, wait);
      });
      clearTimeout(timer);
      this.#wake = null;
    }
    if (this.#chunks.length > 0) {
      const all = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
      this.#chunks = [];
      return all;
    }
    return this.#closed ? "closed" : "timeout";
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    this.#closed = true;
    this.#sock.destroy();
  }
}
