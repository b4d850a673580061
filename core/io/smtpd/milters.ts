import { failureReply, type FilterSpec } from "../../lib/smtpd/filter-line.ts";
import { BODY_CHUNK, encode, type Reply, type Stage } from "../../lib/smtpd/milter.ts";
import { editEnvelope, editHeader, fieldValue, fromCrlf, joinMessage, splitMessage, toCrlf, type Envelope, type Held } from "../../lib/smtpd/milter-edit.ts";
import { MilterClient, type Answer } from "./milter.ts";

/**
 * The milters of one SMTP session (control/milters; qm-smtpd(8), "Milters"),
 * asked in the order of the file at each stage of the session. A refusal by
 * one is the answer; an accept lets the others still see the rest. The
 * message itself goes to one milter after the other, each seeing the
 * changes of those before it.
 */
type Macros = readonly (readonly [string, string])[];

/** What a stage's milters decided: the reply lines that refuse (null: go on), and whether the message is to be thrown away. */
export interface StageOutcome {
  readonly refuse: readonly string[] | null;
}
export interface ContentOutcome {
  readonly refuse: readonly string[] | null;
  readonly discard: boolean;
  readonly quarantine: string | null;
  readonly message: Uint8Array;
  readonly envelope: Envelope;
}

interface State {
  readonly client: MilterClient;
  failed: boolean;
  skipConnection: boolean; // accepted for the whole connection (or failed with default action accept)
  skipMessage: boolean; // accepted for this message
  inMessage: boolean; // MAIL was sent and no end of message yet: an abort is due before the next one
}

const REFUSALS = { reject: "550 5.7.1 command rejected by a milter", tempfail: "451 4.7.1 a milter asks to try again later" } as const;

export class Milters {
  readonly #all: State[];
  readonly #warn: (line: string) => void;
  #discard = false;
  #quarantine: string | null = null;

  constructor(specs: readonly FilterSpec[], warn: (line: string) => void) {
    this.#all = specs.map((spec) => ({ client: new MilterClient(spec), failed: false, skipConnection: false, skipMessage: false, inMessage: false }));
    this.#warn = warn;
  }

  get any(): boolean {
    return this.#all.length > 0;
  }

  /** Connects to each milter and tells it who the client is; a failure now refuses at MAIL, not here. */
  async connect(host: string, ip: string, port: number, macros: Macros): Promise<StageOutcome> {
    for (const m of this.#all) {
      const why = await m.client.open();
      if (why !== null) this.#failed(m, why, "connect");
    }
    return this.#stage("connect", encode.connect(host, ip, port), macros);
  }

  helo(name: string, macros: Macros): Promise<StageOutcome> {
    this.abort();
    return this.#stage("helo", encode.helo(name), macros);
  }

  /** A new transaction: every milter's message state starts again. */
  async mail(sender: string, macros: Macros): Promise<StageOutcome> {
    this.abort();
    this.#discard = false;
    this.#quarantine = null;
    for (const m of this.#all) m.skipMessage = false;
    const out = await this.#stage("mail", encode.mail([`<${sender}>`]), macros);
    for (const m of this.#all) m.inMessage = m.client.connected;
    return out;
  }

  rcpt(addr: string, macros: Macros): Promise<StageOutcome> {
    return this.#stage("rcpt", encode.rcpt([`<${addr}>`]), macros);
  }

  data(macros: Macros): Promise<StageOutcome> {
    return this.#stage("data", encode.data(), macros);
  }

  /** An ended or abandoned transaction (RSET, a new HELO or MAIL, the end of the session). */
  abort(): void {
    for (const m of this.#all) {
      if (m.inMessage && m.client.connected) m.client.tell(encode.abort());
      m.inMessage = false;
    }
  }

  /** The held message through each milter: header, body, end of message, and their changes. */
  async content(message: Uint8Array, envelope: Envelope, macros: Macros, maxBody: number): Promise<ContentOutcome> {
    let held = splitMessage(message);
    let env = envelope;
    let changed = false;
    const outcome = (refuse: readonly string[] | null): ContentOutcome => ({ refuse, discard: this.#discard, quarantine: this.#quarantine, message: changed ? joinMessage(held) : message, envelope: env });
    for (const m of this.#all) {
      if (this.#discard) break;
      if (!this.#asked(m)) {
        if (m.failed) {
          const r = failureReply(m.client.spec.onFailure, `the milter ${m.client.spec.name}`);
          if (r) return outcome([r]);
        }
        continue;
      }
      const told = await this.#tell(m, held, macros);
      if (told !== null) {
        const v = this.#verdict(m, told, "body");
        if (v) return outcome(v);
        continue;
      }
      const { edits, verdict } = await m.client.endOfMessage();
      m.inMessage = false;
      if ("failed" in verdict) {
        const v = this.#verdict(m, verdict, "eom");
        if (v) return outcome(v);
        continue;
      }
      let body: Uint8Array[] | null = null;
      let size = 0;
      for (const e of edits) {
        if (e.kind === "addheader" || e.kind === "insheader" || e.kind === "chgheader") held = editHeader(held, e);
        else if (e.kind === "chgfrom" || e.kind === "addrcpt" || e.kind === "delrcpt") env = editEnvelope(env, e);
        else if (e.kind === "quarantine") this.#quarantine = e.reason || `quarantined by the milter ${m.client.spec.name}`;
        else if (e.kind === "replbody") {
          size += e.chunk.length;
          if (size > maxBody) return outcome([failureReply(m.client.spec.onFailure, `the milter ${m.client.spec.name}`) ?? "552 5.3.4 a milter's new body is too large"]);
          (body ??= []).push(e.chunk);
        }
        changed = true;
      }
      if (body) held = { ...held, body: fromCrlf(Buffer.concat(body)) };
      const v = this.#verdict(m, verdict, "eom");
      if (v) return outcome(v);
    }
    return outcome(null);
  }

  /** Sends header fields, end of header and body to one milter; null when it is ready for the end of message, else the reply that ended it early. */
  async #tell(m: State, held: Held, macros: Macros): Promise<Answer | null> {
    const c = m.client;
    const early = (r: Answer) => ("failed" in r || (r.kind !== "continue" && r.kind !== "skip") ? r : null);
    if (!c.skips("header"))
      for (const f of held.fields) {
        const r = early(await c.command("header", encode.header(f.name, fieldValue(f))));
        if (r) return r;
      }
    c.macros("N", macros);
    if (!c.skips("eoh")) {
      const r = early(await c.command("eoh", encode.eoh()));
      if (r) return r;
    }
    if (!c.skips("body")) {
      const body = toCrlf(held.body);
      for (let at = 0; at < body.length; at += BODY_CHUNK) {
        const r = await c.command("body", encode.body(body.subarray(at, at + BODY_CHUNK)));
        if (!("failed" in r) && r.kind === "skip") break;
        if (early(r)) return r;
      }
    }
    c.macros("E", macros);
    return null;
  }

  close(): void {
    this.abort();
    for (const m of this.#all) {
      if (m.client.connected) m.client.tell(encode.quit());
      m.client.close();
    }
  }

  #asked(m: State): boolean {
    return !m.failed && !m.skipConnection && !m.skipMessage && m.client.connected;
  }

  async #stage(stage: Stage, pkt: Uint8Array, macros: Macros): Promise<StageOutcome> {
    const cmd = String.fromCharCode(pkt[4]!);
    for (const m of this.#all) {
      if (m.failed && stage !== "connect" && stage !== "helo") {
        const r = failureReply(m.client.spec.onFailure, `the milter ${m.client.spec.name}`);
        if (r) return { refuse: [r] };
      }
      if (!this.#asked(m) || m.client.skips(stage)) continue;
      m.client.macros(cmd, macros);
      const v = this.#verdict(m, await m.client.command(stage, pkt), stage);
      if (v) return { refuse: v };
    }
    return { refuse: null };
  }

  /** One milter's answer at a stage: the reply lines that refuse, or null to go on. */
  #verdict(m: State, r: Answer, stage: Stage): readonly string[] | null {
    const early = stage === "connect" || stage === "helo";
    if ("failed" in r) {
      this.#failed(m, r.failed, stage);
      const reply = early ? null : failureReply(m.client.spec.onFailure, `the milter ${m.client.spec.name}`);
      return reply ? [reply] : null;
    }
    const k = r.kind;
    if (k === "accept") {
      if (early) m.skipConnection = true;
      else m.skipMessage = true;
    } else if (k === "discard") {
      this.#discard = !early;
      if (early) m.skipConnection = true;
    } else if (k === "reject" || k === "tempfail") return [stage === "connect" ? REFUSALS[k].replace(/^550/, "554") : REFUSALS[k]];
    else if (k === "replycode") return (r as Extract<Reply, { kind: "replycode" }>).lines;
    return null;
  }

  #failed(m: State, why: string, stage: Stage): void {
    m.failed = true;
    m.client.close();
    if (m.client.spec.onFailure === "accept") m.skipConnection = true;
    this.#warn(`milter ${m.client.spec.name} at ${stage}: ${why}; default action ${m.client.spec.onFailure}`);
  }

  /** Whether a milter threw the message away (at RCPT, DATA, or its end). */
  get discarded(): boolean {
    return this.#discard;
  }
}
