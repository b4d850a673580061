import { toBytes } from "../../lib/base/bytes.ts";
import type { Peer } from "../../lib/base/peer.ts";
import type { FilterSpec } from "../../lib/smtpd/filter-line.ts";
import type { Envelope } from "../../lib/smtpd/milter-edit.ts";
import type { PolicyFacts } from "../../lib/smtpd/policyd.ts";
import { dataDone, type Session, type Step } from "../../lib/smtpd/session.ts";
import { Milters } from "./milters.ts";
import { PolicyServers } from "./policyd.ts";

/**
 * Policy servers and milters for one SMTP session, behind the few calls
 * qm smtpd's session makes (qm-smtpd(8), "Policy servers and milters"):
 * each returns the reply lines that refuse, or null to go on. With any
 * configured, the message is held after DATA (up to MAX_FILTERED bytes) so
 * that a verdict after the final dot and the milters' changes can still
 * decide what goes into the queue.
 */
export const MAX_FILTERED = 36_700_160; // the databytes qm init writes; as much as control/authpolicy's checks hold

export interface FilterContext {
  readonly sid: string;
  readonly me: string;
  readonly peer: Peer;
  readonly tls: () => { readonly protocol: string; readonly cipher: string } | null;
  /** A log line: `warn` for a filter that failed or a WARN action, `info` for a discarded or quarantined message. */
  readonly log: (level: "warn" | "info", line: string) => void;
}

/** What goes into the queue after the filters, or the reply that says why nothing does. */
export type Filtered = { readonly first: readonly Uint8Array[]; readonly refuse: null; readonly envelope: Envelope } | { readonly first: readonly Uint8Array[]; readonly refuse: string };

type Lines = readonly string[] | null;
const NO_POLICY = { refuse: null, discard: false, hold: null, prepend: [] } as const;
/** Clients the policy servers are not asked about, as Postfix sites put permit_sasl_authenticated and permit_mynetworks first. */
const trusted = (s: Session) => s.user !== null || s.relay !== null;

export class SessionFilters {
  readonly #policy: PolicyServers;
  readonly #milters: Milters;
  readonly #cx: FilterContext;
  readonly #active: boolean;
  #prepend: string[] = [];
  #discard = false;
  #hold: string | null = null;

  constructor(specs: { readonly policyservers: readonly FilterSpec[]; readonly milters: readonly FilterSpec[] }, cx: FilterContext) {
    const warn = (line: string) => cx.log("warn", `smtpd: warning: ${cx.sid} ${line}`);
    this.#policy = new PolicyServers(specs.policyservers, warn);
    this.#milters = new Milters(specs.milters, warn);
    this.#cx = cx;
    this.#active = specs.policyservers.length > 0 || specs.milters.length > 0;
  }

  /** Whether any filter is configured: the message is then held. */
  get active(): boolean {
    return this.#active;
  }

  #connectMacros(): [string, string][] {
    const p = this.#cx.peer;
    return [["j", this.#cx.me], ["{daemon_name}", "qm-smtpd"], ["v", "qm"], ["_", `${p.remoteHost} [${p.remoteIP}]`], ["{client_addr}", p.remoteIP], ["{client_name}", p.remoteHost], ["{client_port}", String(p.remotePort)], ["{daemon_addr}", p.localIP], ["{daemon_port}", String(p.localPort)], ["{if_addr}", p.localIP]];
  }

  async connect(): Promise<Lines> {
    if (!this.#milters.any) return null;
    const p = this.#cx.peer;
    return (await this.#milters.connect(p.remoteHost, p.remoteIP, p.remotePort, this.#connectMacros())).refuse;
  }

  async helo(s: Session): Promise<Lines> {
    if (!this.#milters.any || s.helo === null) return null;
    const tls = this.#cx.tls();
    return (await this.#milters.helo(s.helo, tls ? [["{tls_version}", tls.protocol], ["{cipher}", tls.cipher]] : [])).refuse;
  }

  async mail(s: Session): Promise<Lines> {
    this.#prepend = [];
    this.#discard = false;
    this.#hold = null;
    if (!this.#milters.any || s.sender === null) return null;
    const auth: [string, string][] = s.user === null ? [] : [["{auth_authen}", s.user]];
    return (await this.#milters.mail(s.sender, [["i", this.#cx.sid], ["{mail_addr}", s.sender], ...auth])).refuse;
  }

  /** A recipient the session has taken: the policy servers (not for a client that authenticated or has RELAYCLIENT), then the milters, may still refuse it. */
  async rcpt(s: Session, addr: string): Promise<Lines> {
    const p = trusted(s) ? NO_POLICY : await this.#policy.check(this.#facts(s, "RCPT", addr, 0, 0));
    this.#note(p);
    if (p.refuse) return [p.refuse];
    if (!this.#milters.any) return null;
    return (await this.#milters.rcpt(addr, [["{rcpt_addr}", addr]])).refuse;
  }

  async data(): Promise<Lines> {
    return this.#milters.any ? (await this.#milters.data([["i", this.#cx.sid]])).refuse : null;
  }

  /** RSET or the end of a transaction that went nowhere. */
  reset(): void {
    this.#milters.abort();
  }

  /**
   * The whole message (what the session put first, then what `pull` still
   * brings; `d.done` once the final dot came) through the END-OF-MESSAGE
   * policy servers and the milters. A discarded message answers 250 and
   * queues nothing; a held (quarantined) one is queued with an
   * X-Qm-Quarantine field on top, and logged.
   */
  async message(first: readonly Uint8Array[], pull: () => Promise<Uint8Array | null>, d: { readonly done: boolean; readonly problem: unknown; readonly fatal: unknown }, s: Session): Promise<Filtered> {
    const held = [...first];
    let size = held.reduce((n, b) => n + b.length, 0);
    while (!d.done && size <= MAX_FILTERED) {
      const out = await pull();
      if (d.problem || d.fatal || out === null) return { first: [], refuse: "451 4.3.0 message not queued" }; // the session's own reply wins
      held.push(out);
      size += out.length;
    }
    if (!d.done) return { first: [], refuse: `552 5.3.4 the message is over the ${MAX_FILTERED} bytes the mail filters can hold` };
    const env: Envelope = { sender: s.sender ?? "", recipients: s.recipients };
    const p = this.#policy.atEndOfMessage && !trusted(s) ? await this.#policy.check(this.#facts(s, "END-OF-MESSAGE", "", s.recipients.length, size)) : null;
    if (p) this.#note(p);
    if (p?.refuse) return { first: [], refuse: p.refuse };
    let message: Uint8Array = Buffer.concat([toBytes(this.#prepend.map((f) => `${f}\n`).join("")), ...held]);
    let envelope = env;
    if (this.#milters.any && !this.#discard && !this.#milters.discarded) {
      const m = await this.#milters.content(message, env, [["i", this.#cx.sid]], MAX_FILTERED);
      if (m.refuse) return { first: [], refuse: m.refuse.join("\r\n") };
      ({ message, envelope } = m);
      this.#hold ??= m.quarantine;
    }
    if (this.#discard || this.#milters.discarded || envelope.recipients.length === 0) {
      this.#cx.log("info", `smtpd: ${this.#cx.sid} discarded ${this.#cx.peer.remoteIP} by a filter: nothing queued`);
      return { first: [], refuse: "250 2.0.0 ok" };
    }
    if (this.#hold !== null) {
      this.#cx.log("info", `smtpd: ${this.#cx.sid} quarantine ${this.#cx.peer.remoteIP}: ${this.#hold.replace(/[^\x21-\x7e]+/g, " ").slice(0, 300)}`);
      message = Buffer.concat([toBytes(`X-Qm-Quarantine: ${this.#hold.replace(/[^\x20-\x7e]/g, "?").slice(0, 300)}\n`), message]);
    }
    return { first: [message], refuse: null, envelope };
  }

  close(): void {
    this.#milters.close();
    this.#policy.close();
  }

  #note(p: { discard: boolean; hold: string | null; prepend: readonly string[] }): void {
    if (p.discard) this.#discard = true;
    if (p.hold !== null) this.#hold = p.hold;
    this.#prepend.push(...p.prepend);
  }

  #facts(s: Session, state: PolicyFacts["state"], recipient: string, count: number, size: number): PolicyFacts {
    const p = this.#cx.peer;
    return { state, esmtp: s.esmtp, helo: s.helo ?? "", sender: s.sender ?? "", recipient, recipientCount: count, clientAddress: p.remoteIP, clientName: p.remoteHost, instance: `${this.#cx.sid}.${s.transactions}`, saslUser: s.user ?? "", size, tls: this.#cx.tls(), serverAddress: p.localIP, serverPort: p.localPort };
  }
}

/**
 * control/policyservers and control/milters on a command the session
 * took: HELO, MAIL, a recipient added, DATA. Their refusal replaces the
 * session's reply and undoes what the command did.
 */
export async function filterStep(f: SessionFilters, before: Session, r: Step, line: string): Promise<Step> {
  const s = r.session;
  if (r.effect?.kind === "data") {
    const no = await f.data();
    return no ? { session: s, replies: no } : r;
  }
  if (before.sender === null && s.sender !== null) {
    const no = await f.mail(s);
    return no ? { session: dataDone(s, "").session, replies: no } : r;
  }
  if (s.recipients.length > before.recipients.length) {
    const no = await f.rcpt(s, s.recipients[s.recipients.length - 1]!);
    return no ? { session: { ...s, recipients: s.recipients.slice(0, -1) }, replies: no } : r;
  }
  if (/^(helo|ehlo)\b/i.test(line) && r.replies[0]?.startsWith("250")) {
    const no = await f.helo(s);
    return no ? { session: { ...s, helo: null }, replies: no } : r;
  }
  return r;
}
