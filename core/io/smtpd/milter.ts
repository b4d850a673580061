import type { FilterSpec } from "../../lib/smtpd/filter-line.ts";
import { actionNeeded, decodeReply, encode, negotiated, STAGES, takePacket, type Reply, type Stage } from "../../lib/smtpd/milter.ts";
import { FilterSocket } from "./filter-socket.ts";

/**
 * One milter's connection for one SMTP session (qm-smtpd(8), "Milters"):
 * the option negotiation, then one command at a time and its reply. Every
 * wait has the line's timeout; a progress reply restarts it, up to
 * MAX_WAITS timeouts for one command. A milter that breaks the protocol,
 * goes silent or closes is closed and reported as `{ failed: why }`.
 */
export type Answer = Reply | { readonly failed: string };

/** Timeouts a command may take in all when the milter keeps sending progress replies. */
export const MAX_WAITS = 10;
/** Modifications one end of message may bring (a milter in a loop adding headers stops here). */
export const MAX_EDITS = 10_000;

export class MilterClient {
  readonly spec: FilterSpec;
  #sock: FilterSocket | null = null;
  #buf: Uint8Array = new Uint8Array(0);
  actions = 0;
  protocol = 0;

  constructor(spec: FilterSpec) {
    this.spec = spec;
  }

  /** Connects and negotiates; null when the milter is ready, else why not. */
  async open(): Promise<string | null> {
    const s = await FilterSocket.open(this.spec.endpoint, this.spec.timeoutMs);
    if (typeof s === "string") return s;
    this.#sock = s;
    s.write(encode.optneg());
    const r = await this.#next(Date.now() + this.spec.timeoutMs);
    if ("failed" in r) return r.failed;
    const n = negotiated(r);
    if (typeof n === "string") return this.#fail(n).failed;
    this.actions = n.actions;
    this.protocol = n.protocol;
    return null;
  }

  /** Whether the milter asked to skip the stage (SMFIP_NO*). */
  skips(stage: Stage): boolean {
    return (this.protocol & STAGES.get(stage)!.skip) !== 0;
  }

  /** Sends macros for the command `cmd` (no reply comes to them). */
  macros(cmd: string, pairs: readonly (readonly [string, string])[]): void {
    if (pairs.length > 0) this.#sock?.write(encode.macros(cmd, pairs));
  }

  /** Sends a stage's command; its reply, or continue when the milter said it sends none (SMFIP_NR_*). */
  async command(stage: Stage, pkt: Uint8Array): Promise<Answer> {
    if (this.#sock === null) return { failed: "not connected" };
    this.#sock.write(pkt);
    if ((this.protocol & STAGES.get(stage)!.noReply) !== 0) return { kind: "continue" };
    return this.#final();
  }

  /** End of message: the modifications the milter asks for, then its verdict. */
  async endOfMessage(): Promise<{ edits: Reply[]; verdict: Answer }> {
    if (this.#sock === null) return { edits: [], verdict: { failed: "not connected" } };
    this.#sock.write(encode.eom());
    const edits: Reply[] = [];
    for (;;) {
      const r = await this.#final(true);
      if ("failed" in r || !actionNeeded(r)) return { edits, verdict: r };
      if ((this.actions & actionNeeded(r)) === 0) return { edits, verdict: this.#fail(`asked for '${r.kind}' without negotiating it`) };
      if (edits.length >= MAX_EDITS) return { edits, verdict: this.#fail(`more than ${MAX_EDITS} modifications`) };
      edits.push(r);
    }
  }

  /** A reply that ends the command: progress replies wait on; modifications only at end of message. */
  async #final(atEom = false): Promise<Answer> {
    const start = Date.now();
    for (;;) {
      const r = await this.#next(Math.min(Date.now() + this.spec.timeoutMs, start + MAX_WAITS * this.spec.timeoutMs));
      if ("failed" in r) return r;
      if (r.kind === "progress") continue;
      if (r.kind === "optneg" || (!atEom && actionNeeded(r))) return this.#fail(`an out-of-place reply '${r.kind}'`);
      return r;
    }
  }

  async #next(deadline: number): Promise<Answer> {
    for (;;) {
      const p = takePacket(this.#buf);
      if (p !== "more") {
        if ("error" in p) return this.#fail(p.error);
        this.#buf = p.rest;
        const d = decodeReply(p.cmd, p.data);
        return d.ok ? d.reply : this.#fail(d.why);
      }
      const got = await this.#sock!.read(deadline);
      if (got === "timeout") return this.#fail(`no reply within ${this.spec.timeoutMs / 1000} s`);
      if (got === "closed") return this.#fail("the milter closed the connection");
      this.#buf = this.#buf.length === 0 ? got : Buffer.concat([this.#buf, got]);
    }
  }

  #fail(why: string): { failed: string } {
    this.close();
    return { failed: why };
  }

  /** Sends a command that gets no reply (abort, quit). */
  tell(pkt: Uint8Array): void {
    this.#sock?.write(pkt);
  }

  get connected(): boolean {
    return this.#sock !== null && !this.#sock.closed;
  }

  close(): void {
    this.#sock?.close();
    this.#sock = null;
    this.#buf = new Uint8Array(0);
  }
}
