import { connect as netConnect, isIP, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { parseReply, takeLines, REPLY_LINES_MAX, type Reply } from "../../lib/remote/smtp-wire.ts";

// One SMTP client connection: replies read line by line with a per-read
// timeout, writes that wait for drain with the same timeout, and the
// STARTTLS upgrade. Every failure is "the connection died" (null / false).

export type ConnectResult =
  | { readonly kind: "ok"; readonly conn: SmtpConn }
  | { readonly kind: "fail"; readonly timedOut: boolean; readonly reason: string };

export interface TlsOptions {
  readonly servername?: string;
  /** The trusted CAs (the system's plus control/tlsca); undefined: Node's default store. */
  readonly ca?: readonly string[];
}

/** What a finished handshake gave; whether to trust it is the caller's decision (core/lib/tls/names.ts). */
export interface TlsInfo {
  readonly version: string;
  readonly cipher: string;
  /** The chain ends at a trusted CA (names not yet checked). */
  readonly chainOk: boolean;
  readonly chainError: string | null;
  readonly subjectAltName: string | undefined;
  readonly commonName: string | undefined;
  /** The presented certificates as DER, leaf first (for DANE, core/io/tls/dane.ts). */
  readonly chain: readonly Uint8Array[];
}

/** What TLS-RPT (RFC 8460) counts for a session: a success, or a failure's result type. */
export type TlsResult = { readonly ok: true } | { readonly ok: false; readonly type: string };

export class SmtpConn {
  #sock: Socket | TLSSocket;
  #pending = "";
  #lines: string[] = [];
  #dead = false;
  #wake: (() => void) | null = null;
  readonly #timeoutMs: number;
  #tls: TlsInfo | null = null;
  /** How the peer was verified ("ca", "sts") or "none"; set by the SMTP client after STARTTLS. */
  verifiedBy = "none";
  /** The session's TLS outcome once the client decided on STARTTLS; null before (core/io/remote/smtp-client.ts). */
  tlsResult: TlsResult | null = null;

  constructor(sock: Socket, timeoutMs: number) {
    this.#sock = sock;
    this.#timeoutMs = timeoutMs;
    this.#attach(sock);
  }

  get encrypted(): boolean {
    return this.#tls !== null;
  }

  get tls(): TlsInfo | null {
    return this.#tls;
  }

  /** Open, with nothing unread: fit to start another transaction (a cached connection). */
  get reusable(): boolean {
    return !this.#dead && this.#lines.length === 0 && this.#pending === "";
  }

  /** Something the peer sent is waiting, unread (open or not). */
  get unread(): boolean {
    return this.#lines.length > 0 || this.#pending !== "";
  }

  #attach(sock: Socket | TLSSocket): void {
    // no setEncoding: a STARTTLS upgrade needs the raw socket to keep yielding Buffers
    sock.on("data", (chunk: Buffer) => {
      if (this.#sock !== sock) return;
      const t = takeLines(this.#pending + chunk.toString("latin1"));
      this.#lines.push(...t.lines);
      this.#pending = t.rest;
      if (t.tooLong || this.#lines.length > REPLY_LINES_MAX * 2) this.#kill();
      this.#notify();
    });
    sock.on("error", () => this.#kill());
    sock.on("close", () => this.#kill());
    sock.on("end", () => this.#kill());
  }
  #notify(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }
  #kill(): void {
    this.#dead = true;
    this.#notify();
  }

  /** The next whole reply; null on timeout, EOF, or a malformed or endless reply. */
  async readReply(): Promise<Reply | null> {
    const lines: string[] = [];
    const deadline = Date.now() + this.#timeoutMs;
    for (;;) {
      const line = this.#lines.shift();
      if (line !== undefined) {
        lines.push(line);
        if (/^\d{3}-/.test(line) && lines.length < REPLY_LINES_MAX) continue;
        return parseReply(lines);
      }
      if (this.#dead || !(await this.#waitData(deadline))) return null;
    }
  }
  #waitData(deadline: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = null;
        resolve(false);
      }, Math.max(0, deadline - Date.now()));
      this.#wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  /** Writes and waits for the kernel to take it; false when the peer is gone or too slow. */
  write(data: string | Uint8Array): Promise<boolean> {
    if (this.#dead) return Promise.resolve(false);
    const buf = typeof data === "string" ? Buffer.from(data, "latin1") : data;
    if (this.#sock.write(buf)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (okay: boolean) => {
        clearTimeout(timer);
        this.#sock.off("drain", onDrain);
        this.#sock.off("close", onClose);
        resolve(okay);
      };
      const onDrain = () => done(true);
      const onClose = () => done(false);
      const timer = setTimeout(() => done(false), this.#timeoutMs);
      this.#sock.on("drain", onDrain);
      this.#sock.on("close", onClose);
    });
  }

  /**
   * After a 220 to STARTTLS: the handshake. Anything the peer sent before it
   * is discarded. The chain is checked but never refused here: the caller
   * reads TlsInfo and decides by its policy.
   */
  startTls(opts: TlsOptions): Promise<TlsInfo | null> {
    this.#lines = [];
    this.#pending = "";
    const raw = this.#sock as Socket;
    raw.removeAllListeners("data");
    return new Promise((resolve) => {
      const name = opts.servername && isIP(opts.servername) === 0 ? opts.servername : undefined;
      const ca = opts.ca ? [...opts.ca] : undefined;
      const tls = tlsConnect({ socket: raw, servername: name, rejectUnauthorized: false, ca, minVersion: "TLSv1.2", checkServerIdentity: () => undefined });
      const timer = setTimeout(() => fail(), this.#timeoutMs);
      const fail = () => {
        clearTimeout(timer);
        tls.destroy();
        this.#kill();
        resolve(null);
      };
      tls.once("error", fail);
      tls.once("secureConnect", () => {
        clearTimeout(timer);
        tls.off("error", fail);
        tls.on("error", () => this.#kill());
        this.#sock = tls;
        const cert = tls.getPeerCertificate(true);
        const cn = cert?.subject?.CN;
        this.#tls = {
          version: tls.getProtocol() ?? "unknown",
          cipher: tls.getCipher()?.standardName ?? tls.getCipher()?.name ?? "unknown",
          chainOk: tls.authorized,
          chainError: tls.authorized ? null : String(tls.authorizationError ?? "unknown error"),
          subjectAltName: cert?.subjectaltname,
          commonName: Array.isArray(cn) ? undefined : cn, // two CNs: trust neither
          chain: chainOf(cert),
        };
        this.#attach(tls);
        resolve(this.#tls);
      });
    });
  }

  /** QUIT without waiting for the answer (qmail-remote), then close. */
  quit(): void {
    if (!this.#dead) this.#sock.end("QUIT\r\n");
    this.#dead = true;
    setTimeout(() => this.#sock.destroy(), 1000).unref();
  }

  /** Drops the connection at once (a partial final line must never look like a complete message). */
  abort(): void {
    this.#dead = true;
    this.#sock.destroy();
  }
}

/** The DER certificates from getPeerCertificate(true), leaf first, following issuerCertificate (at most 10; a self-signed one ends it). */
function chainOf(cert: { raw?: Uint8Array; issuerCertificate?: unknown } | undefined): Uint8Array[] {
  const out: Uint8Array[] = [];
  let c = cert;
  while (c?.raw && out.length < 10) {
    out.push(new Uint8Array(c.raw));
    const next = c.issuerCertificate as typeof c;
    if (!next || next === c || (next.raw && Buffer.compare(Buffer.from(next.raw), Buffer.from(c.raw)) === 0)) break;
    c = next;
  }
  return out;
}

/** TCP connect with its own timeout; timedOut feeds the downed-host memory. */
export function connectSmtp(ip: string, port: number, connectMs: number, ioMs: number): Promise<ConnectResult> {
  return new Promise((resolve) => {
    const sock = netConnect({ host: ip, port });
    const timer = setTimeout(() => finish({ kind: "fail", timedOut: true, reason: "connect timed out" }), connectMs);
    const finish = (r: ConnectResult) => {
      clearTimeout(timer);
      sock.removeAllListeners("connect");
      if (r.kind === "fail") {
        sock.on("error", () => {});
        sock.destroy();
      }
      resolve(r);
    };
    sock.once("error", (err: NodeJS.ErrnoException) => finish({ kind: "fail", timedOut: err.code === "ETIMEDOUT", reason: err.message }));
    sock.once("connect", () => {
      sock.removeAllListeners("error");
      sock.setNoDelay(true);
      finish({ kind: "ok", conn: new SmtpConn(sock, ioMs) });
    });
  });
}
