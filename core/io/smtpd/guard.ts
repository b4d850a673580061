import type { Peer } from "../../lib/base/peer.ts";
import { logSafe } from "../../lib/base/log-safe.ts";
import { judge, refusal, type ListAnswer } from "../../lib/smtpd/dnsbl.ts";
import { greyReply, tripleKey } from "../../lib/smtpd/greylist.ts";
import { clientKey, newRateTable, overLimit, takeEvent, type RateName } from "../../lib/smtpd/rate-limits.ts";
import { rcptChecked, rcptRefused, type Session, type Step } from "../../lib/smtpd/session.ts";
import type { SmtpMode } from "../../lib/smtpd/listen.ts";
import type { SmtpConn } from "./conn.ts";
import type { Defences } from "./defence-controls.ts";
import { listText, lookupLists } from "./dnsbl.ts";
import { greyCheck } from "./greylist-store.ts";
import type { RcptVerdict } from "./rcpt-check.ts";

/**
 * One session's defences (qm-smtpd(8): "Pregreet", "DNS lists", "Rate
 * limits", "Greylisting"), hooked into runSession at the greeting, at MAIL
 * and at RCPT. Clients with RELAYCLIENT and sessions that authenticated
 * skip the DNS lists, the rate limits and greylisting; a client in
 * control/dnswl skips the block lists and greylisting. A listed client is
 * refused at RCPT (554 5.7.1 with the zone's text), every recipient but
 * postmaster, so it can still reach a person (rblsmtpd's RBLSMTPD idea).
 */
export interface GuardOptions {
  readonly home: string;
  readonly sid: string;
  readonly peer: Peer;
  readonly mode: SmtpMode; // submission and smtps: MAIL needs AUTH, so no DNS list is asked
  readonly defences: Defences;
  readonly log: (line: string) => void;
  readonly warn: (line: string) => void;
  readonly now?: () => number;
}

export interface Guard {
  /** Before the greeting: the connection rate, the greet delay and pregreet. A line: say it and end the session. */
  connect(conn: SmtpConn): Promise<string | null>;
  /** After a MAIL was taken: the message rate. A line: the transaction is refused with it. */
  mail(s: Session): string | null;
  /** A RCPT the machine took: the DNS lists, the recipient rate, `check` (the recipient lookup), greylisting. */
  rcpt(s: Session, addr: string, check: () => Promise<RcptVerdict>): Promise<Step>;
}

/** This process's counts (a listener's, shared by its sessions; an inetd smtpd counts one session only). */
const rates = newRateTable();
const warned = new Set<string>();

/** Each distinct warning about the control files once per process (they are read again every second). */
function warnOnce(o: GuardOptions): void {
  for (const w of o.defences.warnings) {
    if (warned.has(w)) continue;
    if (warned.size > 1000) warned.clear();
    warned.add(w);
    o.warn(`smtpd: warning: ${w}`);
  }
}

const isPostmaster = (addr: string): boolean => /^postmaster(@|$)/i.test(addr);

export function openGuard(o: GuardOptions): Guard {
  const now = o.now ?? Date.now;
  const d = o.defences;
  const ip = o.peer.remoteIP;
  const key = clientKey(ip);
  const trusted = o.peer.relay !== null;
  const exempt = (s: Session) => trusted || s.user !== null;
  warnOnce(o);
  let lists: Promise<ReadonlyMap<string, ListAnswer>> | null = null;
  let verdict: Promise<{ allowed: boolean; refuse: string | null }> | null = null;
  const take = (name: RateName): string | null => (takeEvent(rates, key, name, d.rates[name], now()) ? null : overLimit(name, d.rates[name], key));
  const judged = () => (verdict ??= judgeLists(o, lists ?? Promise.resolve(new Map())));

  return {
    async connect(conn) {
      if (trusted) return null;
      const over = take("connections");
      if (over) return over;
      if (o.mode === "smtp" && d.dnsbl.length + d.dnswl.length > 0) lists = lookupLists(o.home, ip, [...d.dnsbl, ...d.dnswl], now).catch(() => new Map()); // awaited only at RCPT, maybe never: it must not reject
      // pregreet (postscreen's test) only with a delay: without one, a batch client's early input is no sign of anything
      if (d.greetdelay === 0 || !(await conn.waitInput(d.greetdelay))) return null;
      return conn.hasInput ? "554 5.5.1 protocol error: you talked before my greeting" : null;
    },
    mail(s) {
      return exempt(s) ? null : take("messages");
    },
    async rcpt(s, addr, check) {
      const free = exempt(s);
      if (!free && lists !== null && !isPostmaster(addr)) {
        const v = await judged();
        if (v.refuse) return rcptRefused(s, v.refuse);
      }
      const over = free ? null : take("recipients");
      if (over) return rcptRefused(s, over);
      const next = rcptChecked(s, addr, await check());
      if (next.session.recipients.length === s.recipients.length || free || d.greylist === null || (lists !== null && (await judged()).allowed)) return next;
      const g = await greyCheck(o.home, tripleKey(ip, s.sender ?? "", addr), d.greylist, now());
      if (g.kind !== "ok") {
        o.warn(`smtpd: warning: ${o.sid} ${g.reason}; recipient accepted without greylisting`);
        return next;
      }
      return g.value.pass ? next : rcptRefused(s, greyReply(g.value.wait));
    },
  };
}

/** The lists' answers, once a session: allowed by control/dnswl, or refused by control/dnsbl (with its line). */
async function judgeLists(o: GuardOptions, pending: Promise<ReadonlyMap<string, ListAnswer>>): Promise<{ allowed: boolean; refuse: string | null }> {
  const answers = await pending;
  const ip = o.peer.remoteIP;
  for (const [zone, a] of answers) if (a.kind === "unusable") o.warn(`smtpd: warning: ${o.sid} dns list ${zone} for ${ip}: ${a.why.split(" ").map(logSafe).join(" ")}; taken as not listed`);
  const white = judge(o.defences.dnswl, answers);
  if (white.listed.length > 0) o.log(`smtpd: ${o.sid} dnswl ${ip} ${white.listed.map((l) => l.zone).join(",")} score ${white.score}`);
  if (white.over) return { allowed: true, refuse: null };
  const black = judge(o.defences.dnsbl, answers);
  if (black.listed.length === 0) return { allowed: false, refuse: null };
  o.log(`smtpd: ${o.sid} dnsbl ${ip} ${black.listed.map((l) => l.zone).join(",")} score ${black.score}${black.over ? "" : " (under the threshold: not refused)"}`);
  if (!black.over) return { allowed: false, refuse: null };
  const top = black.listed[0]!;
  return { allowed: false, refuse: refusal(top, top.text === null ? await listText(o.home, ip, top.zone) : null, ip) };
}
