import { fromBytes, toBytes } from "../../lib/base/bytes.ts";
import { failureReply, type FilterSpec } from "../../lib/smtpd/filter-line.ts";
import { encodeRequest, parseAnswer, policyRequest, readAction, type PolicyFacts } from "../../lib/smtpd/policyd.ts";
import { FilterSocket } from "./filter-socket.ts";

/**
 * The policy servers of one SMTP session (control/policyservers; qm-smtpd(8),
 * "Policy servers"): one connection to each, opened when first needed and
 * kept for the session, as Postfix keeps them. A server that cannot be
 * reached, does not answer within its timeout, closes, or answers what is
 * not the protocol gets its line's default action, and a log line.
 */
export interface PolicyOutcome {
  /** The reply that refuses this recipient (or the message at END-OF-MESSAGE); null: go on. */
  readonly refuse: string | null;
  readonly discard: boolean;
  readonly hold: string | null;
  readonly prepend: readonly string[];
}

class PolicyClient {
  readonly spec: FilterSpec;
  #sock: FilterSocket | null = null;

  constructor(spec: FilterSpec) {
    this.spec = spec;
  }

  /** One request and its `action`, or why there is none. */
  async ask(request: string): Promise<{ action: string } | { why: string }> {
    const deadline = Date.now() + this.spec.timeoutMs;
    if (this.#sock === null || this.#sock.closed) {
      const s = await FilterSocket.open(this.spec.endpoint, this.spec.timeoutMs);
      if (typeof s === "string") return { why: s };
      this.#sock = s;
    }
    const sock = this.#sock;
    sock.write(toBytes(request));
    let text = "";
    for (;;) {
      const got = await sock.read(deadline);
      if (got === "timeout" || got === "closed") {
        this.close();
        return { why: got === "timeout" ? `no answer within ${this.spec.timeoutMs / 1000} s` : "the server closed the connection" };
      }
      text += fromBytes(got);
      const answer = parseAnswer(text);
      if (answer === "more") continue;
      if ("error" in answer) {
        this.close();
        return { why: answer.error as string };
      }
      if (text.length > text.indexOf("\n\n") + 2) this.close(); // more than one answer: out of step from here on
      const action = answer.get("action");
      return action === undefined ? { why: "an answer without action=" } : { action };
    }
  }

  close(): void {
    this.#sock?.close();
    this.#sock = null;
  }
}

export class PolicyServers {
  readonly #clients: PolicyClient[];
  readonly #warn: (line: string) => void;

  constructor(specs: readonly FilterSpec[], warn: (line: string) => void) {
    this.#clients = specs.map((s) => new PolicyClient(s));
    this.#warn = warn;
  }

  /** True when some server is asked at END-OF-MESSAGE (the message is then held for it). */
  get atEndOfMessage(): boolean {
    return this.#clients.some((c) => c.spec.states.includes("eom"));
  }

  /** Asks each server of the stage in turn until one refuses or says OK. */
  async check(facts: PolicyFacts): Promise<PolicyOutcome> {
    const stage = facts.state === "RCPT" ? "rcpt" : "eom";
    const request = encodeRequest(policyRequest(facts));
    let discard = false;
    let hold: string | null = null;
    const prepend: string[] = [];
    for (const c of this.#clients) {
      if (!c.spec.states.includes(stage)) continue;
      const got = await c.ask(request);
      const v = "why" in got ? got.why : readAction(got.action);
      if (typeof v === "string") {
        this.#warn(`policy server ${c.spec.name}: ${v}; default action ${c.spec.onFailure}`);
        const refuse = failureReply(c.spec.onFailure, `the policy server ${c.spec.name}`);
        if (refuse) return { refuse, discard, hold, prepend };
        continue;
      }
      if (v.kind === "refuse") return { refuse: v.reply, discard, hold, prepend };
      if (v.kind === "ok") break;
      if (v.kind === "discard") discard = true;
      if (v.kind === "hold") hold = v.reason;
      if (v.kind === "prepend") prepend.push(v.field);
      if (v.kind === "log") this.#warn(`policy server ${c.spec.name}: ${v.text}`);
    }
    return { refuse: null, discard, hold, prepend };
  }

  close(): void {
    for (const c of this.#clients) c.close();
  }
}
