/**
 * The Postfix policy delegation protocol (Postfix's SMTPD_POLICY_README;
 * qm-smtpd(8), "Policy servers"): the request is `name=value` lines ended by
 * an empty line; the answer is the same, and its `action` attribute says
 * what to do. The socket is core/io/smtpd/policyd.ts.
 */

/** The longest answer taken, in bytes (Postfix's line_length_limit is 2048). */
export const MAX_ANSWER = 8192;

export type Attrs = readonly (readonly [string, string])[];

/** A value may not hold a line end or a NUL (they would end the attribute early); such bytes become "?". */
export function encodeRequest(attrs: Attrs): string {
  return `${attrs.map(([k, v]) => `${k}=${v.replace(/[\r\n\0]/g, "?")}\n`).join("")}\n`;
}

/** The answer's attributes once its empty line came; "more" before that; an error for one over MAX_ANSWER or a line without "=". */
export function parseAnswer(text: string): Map<string, string> | "more" | { readonly error: string } {
  const end = text.indexOf("\n\n");
  if (end < 0) return text.length > MAX_ANSWER ? { error: `an answer over ${MAX_ANSWER} bytes` } : "more";
  if (end > MAX_ANSWER) return { error: `an answer over ${MAX_ANSWER} bytes` };
  const out = new Map<string, string>();
  for (const line of text.slice(0, end).split("\n")) {
    const eq = line.indexOf("=");
    if (eq <= 0) return { error: `a line that is not name=value: ${JSON.stringify(printable(line.slice(0, 80)))}` };
    out.set(line.slice(0, eq).toLowerCase(), line.slice(eq + 1).replace(/\r$/, ""));
  }
  return out;
}

export type Verdict =
  | { readonly kind: "dunno" } // DUNNO, DEFER_IF_REJECT, WARN, INFO: ask the next server
  | { readonly kind: "ok" } // OK: this server lets it through; the servers after it are not asked
  | { readonly kind: "refuse"; readonly reply: string }
  | { readonly kind: "discard" } // the message is taken and thrown away
  | { readonly kind: "hold"; readonly reason: string } // HOLD, as a milter's quarantine
  | { readonly kind: "prepend"; readonly field: string }
  | { readonly kind: "log"; readonly text: string }; // WARN and INFO: a log line, then as DUNNO

/** "CODE x.y.z text": a text that starts with an enhanced status code keeps it (its class made the reply's), as Postfix does. */
function replyLine(code: string, text: string, fallback: string): string {
  const m = /^[45](\.\d{1,3}\.\d{1,3})(?: +|$)(.*)$/.exec(text);
  const status = m ? `${code[0]}${m[1]}` : `${code[0]}.7.1`;
  return `${code} ${status} ${(m ? m[2]! : text) || fallback}`;
}

const WORDS = new Map<string, (text: string) => Verdict>([
  ["ok", () => ({ kind: "ok" })],
  ["dunno", () => ({ kind: "dunno" })],
  ["reject", (t) => ({ kind: "refuse", reply: replyLine("554", t, "access denied") })],
  ["defer", (t) => ({ kind: "refuse", reply: replyLine("450", t, "try again later") })],
  ["defer_if_permit", (t) => ({ kind: "refuse", reply: replyLine("450", t, "try again later") })],
  ["defer_if_reject", () => ({ kind: "dunno" })],
  ["discard", () => ({ kind: "discard" })],
  ["hold", (t) => ({ kind: "hold", reason: t || "held by a policy server" })],
  ["warn", (t) => ({ kind: "log", text: t })],
  ["info", (t) => ({ kind: "log", text: t })],
]);

/**
 * An `action=` value as qm obeys it; a string says why it cannot be (an
 * action qm does not carry out: REDIRECT, FILTER, BCC, restriction names),
 * which the caller treats as the server failing.
 */
export function readAction(action: string): Verdict | string {
  const a = printable(action.trim()).slice(0, 512);
  const m = /^([45]\d\d)(?:[ -](.*))?$/.exec(a);
  if (m) return { kind: "refuse", reply: replyLine(m[1]!, (m[2] ?? "").trim(), m[1]![0] === "4" ? "try again later" : "access denied") };
  const sp = a.search(/[ \t]/);
  const word = (sp < 0 ? a : a.slice(0, sp)).toLowerCase();
  const text = sp < 0 ? "" : a.slice(sp + 1).trim().slice(0, 500);
  if (word === "prepend") return /^[!-9;-~]+:/.test(text) ? { kind: "prepend", field: text } : "PREPEND without a header field";
  const f = WORDS.get(word);
  return f ? f(text) : `unsupported action ${JSON.stringify(a.slice(0, 80))}`;
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, "?");
}

/** What one policy request tells the server (the attributes of Postfix's SMTPD_POLICY_README that qm knows). */
export interface PolicyFacts {
  readonly state: "RCPT" | "END-OF-MESSAGE";
  readonly esmtp: boolean;
  readonly helo: string;
  readonly sender: string;
  readonly recipient: string;
  readonly recipientCount: number;
  readonly clientAddress: string;
  readonly clientName: string;
  readonly instance: string;
  readonly saslUser: string;
  readonly size: number;
  readonly tls: { readonly protocol: string; readonly cipher: string } | null;
  readonly serverAddress: string;
  readonly serverPort: number;
}

export function policyRequest(f: PolicyFacts): Attrs {
  return [
    ["request", "smtpd_access_policy"],
    ["protocol_state", f.state],
    ["protocol_name", f.esmtp ? "ESMTP" : "SMTP"],
    ["helo_name", f.helo],
    ["queue_id", ""],
    ["sender", f.sender],
    ["recipient", f.recipient],
    ["recipient_count", String(f.recipientCount)],
    ["client_address", f.clientAddress],
    ["client_name", f.clientName],
    ["reverse_client_name", f.clientName],
    ["instance", f.instance],
    ["sasl_method", ""],
    ["sasl_username", f.saslUser],
    ["sasl_sender", ""],
    ["size", String(f.size)],
    ["ccert_subject", ""],
    ["ccert_issuer", ""],
    ["ccert_fingerprint", ""],
    ["encryption_protocol", f.tls?.protocol ?? ""],
    ["encryption_cipher", f.tls?.cipher ?? ""],
    ["encryption_keysize", ""],
    ["etrn_domain", ""],
    ["stress", ""],
    ["server_address", f.serverAddress],
    ["server_port", String(f.serverPort)],
    ["mail_version", "qm"],
  ];
}
