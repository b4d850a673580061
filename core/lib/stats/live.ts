/**
 * `qm start --metrics` (qm-start(8)): the log lines of the running parts, as
 * they pass through qm start, turned into observations for the metrics
 * endpoint: a delivery done (with its delay from the message's `new msg`
 * when that was seen), a message queued or done, an SMTP session, STARTTLS,
 * a failed AUTH, a refused command (by command, reply code and enhanced
 * code: few distinct values, so each can be a label), the spawners' use.
 * Only what is under way is remembered, bounded as in tally.ts.
 */
import type { Event, Outcome } from "./line.ts";
import { LIMITS, type Channel } from "./tally.ts";

export type Observation =
  | { readonly o: "queued" }
  | { readonly o: "done" }
  | { readonly o: "delivery"; readonly channel: Channel; readonly outcome: Outcome; readonly delay: number | null }
  | { readonly o: "session" }
  | { readonly o: "tls" }
  | { readonly o: "auth"; readonly ok: boolean }
  | { readonly o: "reject"; readonly reason: string }
  | { readonly o: "accepted" }
  | { readonly o: "concurrency"; readonly channel: Channel; readonly used: number; readonly limit: number };

export interface Live {
  readonly born: Map<number, number>; // message id -> ms of its new msg
  readonly deliveries: Map<number, { readonly id: number; readonly channel: Channel }>;
}

export function newLive(): Live {
  return { born: new Map(), deliveries: new Map() };
}

function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  if (map.size >= LIMITS.open) map.delete(map.keys().next().value as K);
  map.set(key, value);
}

/** The command words a reject label may carry; a client's own words (an unknown command) become "other", so a client cannot make labels without end. */
const VERBS = new Set(["HELO", "EHLO", "MAIL", "RCPT", "DATA", "BDAT", "AUTH", "STARTTLS", "RSET", "NOOP", "VRFY", "EXPN", "HELP", "QUIT", "(line too long)", "message"]);

/** "553 5.7.1 sorry, ..." -> "RCPT 553 5.7.1"; a reply without an enhanced code keeps its code only. */
export function rejectReason(verb: string, reply: string): string {
  const m = /^([245]\d\d)(?: ([245]\.\d{1,3}\.\d{1,3}))?/.exec(reply);
  const what = VERBS.has(verb) ? verb : "other";
  return m ? `${what} ${m[1]}${m[2] ? ` ${m[2]}` : ""}` : `${what} ?`;
}

/** What one event at `ms` tells the metrics. */
export function observe(s: Live, e: Event, ms: number): Observation[] {
  switch (e.t) {
    case "new": remember(s.born, e.id, ms); return [{ o: "queued" }];
    case "end": s.born.delete(e.id); return [{ o: "done" }];
    case "start": remember(s.deliveries, e.d, { id: e.id, channel: e.channel }); return [];
    case "restart": s.deliveries.clear(); return [];
    case "result": {
      const d = s.deliveries.get(e.d);
      if (!d) return [];
      s.deliveries.delete(e.d);
      const born = s.born.get(d.id);
      const final = e.outcome === "success" || e.outcome === "failure";
      return [{ o: "delivery", channel: d.channel, outcome: e.outcome, delay: final && born !== undefined ? Math.max(0, ms - born) / 1000 : null }];
    }
    case "status":
      return [{ o: "concurrency", channel: "local", used: e.local, limit: e.localMax }, { o: "concurrency", channel: "remote", used: e.remote, limit: e.remoteMax }];
    case "connect": return [{ o: "session" }];
    case "starttls": return [{ o: "tls" }];
    case "auth": return [{ o: "auth", ok: e.ok }];
    case "refused": return [{ o: "reject", reason: rejectReason(e.verb, e.reply) }];
    case "accepted": return [{ o: "accepted" }];
    default: return [];
  }
}
