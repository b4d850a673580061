import { formatDate822 } from "../base/date822.ts";

/** What qmail-smtpd's Received line says about a session (docs/qmail.md §6.4). */
export interface ReceivedInfo {
  readonly remoteHost: string; // TCPREMOTEHOST, "unknown" when not known
  readonly remoteIP: string;
  readonly remoteInfo: string | null; // TCPREMOTEINFO
  readonly helo: string | null;
  readonly localHost: string; // TCPLOCALHOST, else TCPLOCALIP, else "unknown"
  readonly protocol: string; // "SMTP", "ESMTP", "ESMTPS", "ESMTPSA", "UTF8SMTPS"... (RFC 3848, RFC 6531)
}

/** qmail-smtpd's safe(): every byte outside [A-Za-z0-9.@%+/=:-[]] becomes "?". */
export function safeReceived(s: string): string {
  return s.replace(/[^A-Za-z0-9.@%+/=:\-[\]]/g, "?");
}

/** "Received: from host (HELO h) (info@ip)\n  by local with ESMTP; date\n" */
export function receivedLine(r: ReceivedInfo, nowMs: number): string {
  const helo = r.helo !== null && r.helo.toLowerCase() !== r.remoteHost.toLowerCase() ? ` (HELO ${safeReceived(r.helo)})` : "";
  const info = r.remoteInfo !== null ? `${safeReceived(r.remoteInfo)}@` : "";
  return `Received: from ${safeReceived(r.remoteHost)}${helo} (${info}${safeReceived(r.remoteIP)})\n  by ${safeReceived(r.localHost)} with ${r.protocol}; ${formatDate822(nowMs)}\n`;
}

/** RFC 3848 / RFC 6531 protocol names for the "with" clause. */
export function protocolName(esmtp: boolean, tls: boolean, auth: boolean, utf8: boolean): string {
  if (!esmtp) return "SMTP";
  return `${utf8 ? "UTF8SMTP" : "ESMTP"}${tls ? "S" : ""}${auth ? "A" : ""}`;
}
