/**
 * LMTP (RFC 2033) for delivery into a mail store such as Dovecot: where to
 * connect (a route `lmtp:unix:/path` or `lmtp:host:port`), and how the
 * replies of one transaction become one outcome per recipient. Pure: the
 * connection is core/io/remote/lmtp.ts.
 *
 * The rule that keeps a recipient from being marked delivered by mistake:
 * after DATA an LMTP server answers once per accepted recipient, in RCPT
 * order. Only when exactly that many well-formed replies arrive, and nothing
 * else follows them, is any reply taken for its recipient; a missing reply,
 * a garbled one, an early close or an extra reply makes every accepted
 * recipient temporary (tried again: a duplicate at worst, never a loss).
 */
import { remoteSaid } from "./report.ts";
import type { Reply } from "./smtp-wire.ts";

export type LmtpTarget =
  | { readonly kind: "unix"; readonly path: string }
  | { readonly kind: "tcp"; readonly host: string; readonly port: number };

export interface LmtpOutcome {
  readonly letter: "K" | "Z" | "D";
  readonly text: string;
}

/** The route's prefix, as written in control/virtualdomains and .qmail lines. */
export const LMTP_PREFIX = "lmtp:";
const MAX_ROUTE = 1000;

/**
 * `lmtp:unix:/absolute/path`, `lmtp:IPv4:port` or `lmtp:[IPv6]:port`; null
 * for anything else (a host name is refused: no resolver is asked).
 */
export function parseLmtpRoute(route: string): LmtpTarget | null {
  if (!route.startsWith(LMTP_PREFIX) || route.length > MAX_ROUTE || /[\0\r\n]/.test(route)) return null;
  const rest = route.slice(LMTP_PREFIX.length);
  if (rest.startsWith("unix:")) {
    const path = rest.slice(5);
    return path.startsWith("/") && !path.split("/").includes("..") ? { kind: "unix", path } : null;
  }
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(rest);
  if (!m) return null;
  const port = Number(m[3]);
  const host = m[1] ?? m[2]!;
  if (port < 1 || port > 65535) return null;
  if (m[2] && m[2].split(".").some((o) => Number(o) > 255)) return null;
  if (m[1] && !m[1].includes(":")) return null;
  return { kind: "tcp", host, port };
}

/** How the target is named in texts: "unix:/path" or "host:port" (bytes outside printable ASCII as "?"). */
export function targetName(t: LmtpTarget): string {
  const s = t.kind === "unix" ? `unix:${t.path}` : t.host.includes(":") ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
  return s.replace(/[^\x21-\x7e]/g, "?");
}

/** A reply's class as an outcome letter: 2xx K, 5xx D, anything else (3xx out of step, 4xx) Z. */
function letterOf(code: number): "K" | "Z" | "D" {
  return code >= 500 ? "D" : code >= 200 && code < 300 ? "K" : "Z";
}

/** The outcome of one RCPT reply when the server did not accept it (null: accepted). */
export function rcptRefusal(where: string, reply: Reply): LmtpOutcome | null {
  const l = letterOf(reply.code);
  if (l === "K") return null;
  return { letter: l, text: `LMTP server ${where} does not like recipient.\n${remoteSaid(reply)}` };
}

/** A reply to MAIL or DATA that ends the transaction for every recipient still open (null: go on). */
export function stageFailure(where: string, stage: "MAIL" | "DATA", reply: Reply, want: number): LmtpOutcome | null {
  if (reply.code === want || (want === 250 && reply.code >= 200 && reply.code < 300)) return null;
  const l = letterOf(reply.code);
  // a 2xx where 354 was due is a server out of step: temporary, never a success
  const letter = l === "K" ? "Z" : l;
  const what = stage === "MAIL" ? "sender was rejected" : "it failed on DATA command";
  return { letter, text: `Connected to LMTP server ${where} but ${what}.\n${remoteSaid(reply)}${letter === "Z" ? "(#4.4.2)\n" : ""}` };
}

/**
 * The per-recipient outcomes after DATA: `replies` as read (null where the
 * reading failed), `extra` when anything followed the last expected reply.
 */
export function dataOutcomes(where: string, replies: readonly (Reply | null)[], expected: number, extra: boolean): LmtpOutcome[] {
  const whole = replies.length === expected && replies.every((r) => r !== null) && !extra;
  if (!whole) {
    const why = extra ? "sent more replies than recipients" : "did not send one reply per recipient";
    const text = `LMTP server ${where} ${why} after the message; I cannot tell which recipients got it. Possible duplicate! (#4.4.2)\n`;
    return Array.from({ length: expected }, () => ({ letter: "Z" as const, text }));
  }
  return replies.map((r) => {
    const l = letterOf(r!.code);
    const said = remoteSaid(r);
    if (l === "K") return { letter: l, text: `LMTP server ${where} accepted message.\n${said}` };
    return { letter: l, text: `LMTP server ${where} failed after I sent the message.\n${said}` };
  });
}
