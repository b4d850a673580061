import type { Duplex } from "node:stream";
import { TLSSocket, type SecureContext } from "node:tls";
import { fromBytes, toBytes } from "../../lib/base/bytes.ts";

/**
 * One SMTP connection's bytes: reads with a time limit and a bounded input
 * buffer (the socket is paused above HIGH_WATER), replies collected and sent
 * in one write before the next wait for input (PIPELINING), and the
 * STARTTLS switch, which throws away anything the client sent after the
 * command (RFC 3207 §4.2; the CVE-2011-0411 family).
 */
export type LineRead =
  | { readonly kind: "line"; readonly line: string }
  | { readonly kind: "eof" }
  | { readonly kind: "timeout" }
  | { readonly kind: "deadline" }
  | { readonly kind: "toolong" };

const HIGH_WATER = 256 * 1024;

export class SmtpConn {
  #sock: Duplex;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #ended = false;
  #wake: (() => void) | null = null;
  #out: string[] = [];
  #timeoutMs: number;
  #deadline: number | null = null;
  #kicked: string | null = null;
  #stalledSince: number | null = null;
  readonly #onData = (b: Buffer): void => {
    this.#queue.push(b);
    this.#queued += b.length;
    if (this.#queued > HIGH_WATER) this.#sock.pause();
    this.#wakeUp();
  };
  readonly #onEnd = (): void => {
    this.#ended = true;
    this.#registry?.delete(this);
    this.#wakeUp();
  };
  readonly #registry: Set<SmtpConn> | undefined;

  /** `registry`: the process's live connections (each is in it until its input ends or it closes). */
  constructor(sock: Duplex, timeoutMs: number, registry?: Set<SmtpConn>) {
    this.#sock = sock;
    this.#timeoutMs = timeoutMs;
    this.#registry = registry;
    registry?.add(this);
    this.#attach();
  }

  set timeoutMs(ms: number) {
    this.#timeoutMs = ms;
  }
  /** An absolute time (Date.now()) by which the next input must have come, or null: only the idle timeout. */
  set deadline(at: number | null) {
    this.#deadline = at;
  }
  /** True when the last "timeout" was the deadline's, not the idle timeout's. */
  get pastDeadline(): boolean {
    return this.#deadline !== null && Date.now() >= this.#deadline;
  }
  /** Since when this session has been waiting on its client for the current command or data block; null: it is not. */
  get stalledSince(): number | null {
    return this.#kicked === null ? this.#stalledSince : null;
  }
  /** Marks progress: the client finished a command or sent a block of data. */
  progress(waiting: boolean): void {
    this.#stalledSince = waiting ? Date.now() : null;
  }
  /** The listener needs the slot (qm-smtpd(8), "timeoutbusy"): the next read ends at once as a timeout. */
  kick(reason: string): void {
    this.#kicked = reason;
    this.#wakeUp();
  }
  /** Why the session was kicked, or null. */
  get kicked(): string | null {
    return this.#kicked;
  }
  get tls(): boolean {
    return this.#sock instanceof TLSSocket;
  }
  /** The TLS version and cipher in use ("TLSv1.3", "TLS_AES_256_GCM_SHA384"), null before STARTTLS. */
  get tlsInfo(): { protocol: string; cipher: string } | null {
    if (!(this.#sock instanceof TLSSocket)) return null;
    return { protocol: this.#sock.getProtocol() ?? "unknown", cipher: this.#sock.getCipher()?.name ?? "unknown" };
  }

  #attach(): void {
    this.#sock.on("data", this.#onData);
    this.#sock.on("end", this.#onEnd);
    this.#sock.on("close", this.#onEnd);
    this.#sock.on("error", this.#onEnd);
  }
  #detach(): void {
    this.#sock.off("data", this.#onData);
    this.#sock.off("end", this.#onEnd);
    this.#sock.off("close", this.#onEnd);
  }
  #wakeUp(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  /** True when input is waiting: replies may wait for the next command (pipelining). */
  get hasInput(): boolean {
    return this.#queued > 0;
  }

  /** Waits up to `ms` for the client to send something or go away (the greet delay); true when it did. */
  async waitInput(ms: number): Promise<boolean> {
    if (this.#queue.length > 0 || this.#ended) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const got = await new Promise<boolean>((resolve) => {
      this.#wake = () => resolve(true);
      timer = setTimeout(() => resolve(false), ms);
    });
    clearTimeout(timer);
    this.#wake = null;
    return got;
  }

  /** The next bytes from the client: null at end of input, "timeout" after timeoutMs of silence. */
  async nextChunk(): Promise<Uint8Array | null | "timeout"> {
    if (this.#kicked !== null) return "timeout";
    if (this.#queue.length === 0 && !this.#ended) await this.flush();
    if (this.#queue.length === 0 && !this.#ended) {
      const wait = this.#deadline === null ? this.#timeoutMs : Math.min(this.#timeoutMs, this.#deadline - Date.now());
      if (wait <= 0) return "timeout";
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = await new Promise<boolean>((resolve) => {
        this.#wake = () => resolve(false);
        timer = setTimeout(() => resolve(true), wait);
      });
      clearTimeout(timer);
      this.#wake = null;
      if (timedOut || this.#kicked !== null) return "timeout";
    }
    const chunk = this.#queue.shift();
    if (!chunk) return null;
    this.#queued -= chunk.length;
    if (this.#queued <= HIGH_WATER / 2) this.#sock.resume();
    return chunk;
  }

  /** Drops what the client has sent and we have not read, and the replies not yet sent that start with `code`. */
  discard(code: string): void {
    this.#queue = [];
    this.#queued = 0;
    this.#out = this.#out.filter((l) => !l.startsWith(code));
    this.#sock.resume();
  }

  /** Gives back bytes read past the end of a line or of the data. */
  unread(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#queue.unshift(bytes);
    this.#queued += bytes.length;
  }

  /**
   * One line up to LF, one CR before it removed; a line over `max` bytes is
   * skipped and reported. Once its first byte is in, the whole line must
   * come within `commandMs` ("deadline"); before that only the idle timeout
   * runs.
   */
  async readLine(max: number, commandMs = Infinity): Promise<LineRead> {
    const parts: Uint8Array[] = [];
    let len = 0;
    let tooLong = false;
    let started = false;
    this.progress(true);
    try {
      for (;;) {
        const c = await this.nextChunk();
        if (c === null) return { kind: "eof" };
        if (c === "timeout") return started && this.pastDeadline && this.#kicked === null ? { kind: "deadline" } : { kind: "timeout" };
        if (!started && c.length > 0 && Number.isFinite(commandMs)) this.#deadline = Date.now() + commandMs;
        started ||= c.length > 0;
        const lf = c.indexOf(10);
        const take = lf < 0 ? c : c.subarray(0, lf);
        if (!tooLong) {
          len += take.length;
          if (len > max + 1) tooLong = true;
          else parts.push(take);
        }
        if (lf < 0) continue;
        this.unread(c.subarray(lf + 1));
        if (tooLong) return { kind: "toolong" };
        const line = parts.length === 1 ? fromBytes(parts[0]!) : fromBytes(concat(parts, len));
        const text = line.endsWith("\r") ? line.slice(0, -1) : line;
        return text.length > max ? { kind: "toolong" } : { kind: "line", line: text };
      }
    } finally {
      this.#deadline = null;
      this.progress(false);
    }
  }

  /** Queues reply lines (byte strings); they go out at the next flush. */
  reply(lines: readonly string[]): void {
    for (const l of lines) this.#out.push(`${l}\r\n`);
  }

  /** Sends the queued replies; waits for the socket to drain (bounded by the timeout). */
  async flush(): Promise<void> {
    if (this.#out.length === 0) return;
    const text = this.#out.join("");
    this.#out = [];
    if (this.#sock.destroyed || this.#sock.writableEnded) return;
    if (this.#sock.write(toBytes(text))) return;
    await this.#drained();
  }

  #drained(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#sock.destroy();
        resolve();
      }, this.#timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#sock.once("drain", done);
      this.#sock.once("close", done);
    });
  }

  /** RFC 3207: input already buffered is discarded; true once the handshake is done. */
  async startTls(context: SecureContext): Promise<boolean> {
    await this.flush();
    this.#detach();
    this.#queue = [];
    this.#queued = 0;
    const raw = this.#sock;
    raw.resume();
    const tls = new TLSSocket(raw as never, { isServer: true, secureContext: context });
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), this.#timeoutMs);
      tls.once("secure", () => {
        clearTimeout(timer);
        resolve(true);
      });
      tls.once("error", () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    this.#sock = tls;
    this.#ended = false;
    this.#attach();
    if (!ok) this.close();
    return ok;
  }

  /**
   * Sends what is queued and closes; resolves once the last bytes are
   * written (a TLS socket's too, before the caller may drop the raw socket
   * under it), or after 5 s when the peer does not read: then it is destroyed.
   */
  async close(): Promise<void> {
    this.#registry?.delete(this);
    await this.flush();
    const s = this.#sock;
    if (s.destroyed || s.writableFinished) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        s.off("close", done);
        resolve();
      };
      const timer = setTimeout(() => {
        s.destroy();
        done();
      }, 5000);
      s.once("close", done);
      s.end(done);
    });
  }
}

function concat(parts: readonly Uint8Array[], len: number): Uint8Array {
  const out = new Uint8Array(len);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Implicit TLS (RFC 8314, the smtps listener): the handshake on a socket
 * nothing has read from yet, before the greeting. The TLS socket, or null
 * when the handshake failed or took longer than `timeoutMs`.
 */
export function acceptTls(raw: Duplex, context: SecureContext, timeoutMs: number): Promise<TLSSocket | null> {
  const tls = new TLSSocket(raw as never, { isServer: true, secureContext: context });
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), timeoutMs);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      tls.off("secure", good);
      tls.off("error", bad);
      tls.on("error", () => {});
      if (!ok) tls.destroy();
      resolve(ok ? tls : null);
    };
    const good = () => done(true);
    const bad = () => done(false);
    tls.once("secure", good);
    tls.once("error", bad);
  });
}
