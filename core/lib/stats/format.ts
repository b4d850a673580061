/** `qm stats`' text report (qm-stats(8)): sections of aligned lines, for people. */
import type { Counted, Delay, Report } from "./report.ts";

function secs(s: number): string {
  return s < 10 ? `${s.toFixed(3)}s` : s < 3600 ? `${s.toFixed(1)}s` : `${(s / 3600).toFixed(1)}h`;
}
function delayLine(name: string, d: Delay): string {
  return `  ${name.padEnd(8)} ${String(d.count).padStart(9)}  p50 ${secs(d.p50)}  p90 ${secs(d.p90)}  p99 ${secs(d.p99)}  max ${secs(d.max)}\n`;
}
function table(title: string, rows: readonly Counted[]): string {
  if (rows.length === 0) return "";
  return `\n${title}\n${rows.map((r) => `  ${String(r.count).padStart(9)}  ${r.key}\n`).join("")}`;
}

export function formatReport(r: Report): string {
  const d = r.deliveries;
  let s = `qm stats: ${r.from ?? "(no time stamps)"} to ${r.until ?? "(no time stamps)"}, ${r.lines} lines, ${r.events} events\n\n`;
  s += `messages in        ${r.messages.in} (${r.messages.bounces} bounces), ${r.messages.bytes} bytes\n`;
  s += `messages done      ${r.messages.out}\n`;
  s += `recipients         ${r.recipients}\n`;
  s += `\ndeliveries          success   failure  deferral   mangled\n`;
  for (const ch of ["local", "remote"] as const) {
    s += `  ${ch.padEnd(8)} ${[d[ch].success, d[ch].failure, d[ch].deferral, d[ch].mangled].map((n) => String(n).padStart(9)).join(" ")}\n`;
  }
  s += `\ndelay (queued to done)  count\n${delayLine("local", r.delay.local)}${delayLine("remote", r.delay.remote)}`;
  if (r.domains.length > 0) {
    s += `\ndestination domains   success   failure  deferral\n`;
    for (const row of r.domains) {
      s += `  ${String(row.success).padStart(9)} ${String(row.failure).padStart(9)} ${String(row.deferral + row.mangled).padStart(9)}  ${row.domain}\n`;
      for (const why of row.reasons) s += `      ${String(why.count).padStart(6)}  ${why.reason}\n`;
    }
  }
  s += table("SMTP clients (messages accepted)", r.sources.smtp);
  s += table("local users (messages queued, by uid)", r.sources.users);
  s += table("AUTH users (messages accepted)", r.sources.auth);
  const m = r.smtp;
  s += `\nSMTP sessions      ${m.sessions}, ${m.accepted} messages accepted, ${m.tls} with TLS (${(m.tlsShare * 100).toFixed(1)}%), ${m.authFailed} failed AUTH\n`;
  s += table("SMTP rejects (command and reply)", m.rejects);
  return s;
}
