/**
 * `qm qctl requeue` (qm-qctl(8)): a message's pending recipients split into
 * local and remote again with today's control files, as qm send splits a new
 * message (core/lib/send/rewrite.ts). The channel files hold addresses as
 * rewritten, so each is first taken back to what the sender wrote: a local
 * address that today's virtualdomains would have given a "prefix-" loses it.
 * A prefix from a virtualdomains line since removed cannot be known and
 * stays (qm-qctl(8) says so).
 */
import { rewrite, type Channel, type RewriteRules } from "../send/rewrite.ts";

export interface PendingRecord {
  readonly channel: Channel;
  readonly addr: string;
}
export type Split = Readonly<Record<Channel, readonly string[]>>;

/** The address as the sender wrote it, as far as today's rules can tell. */
export function originalRecipient(r: PendingRecord, rules: RewriteRules): string {
  if (r.channel === "remote") return r.addr;
  const at = r.addr.lastIndexOf("@");
  if (at < 0) return r.addr;
  const domain = r.addr.slice(at + 1).toLowerCase();
  if (rules.locals.has(domain)) return r.addr;
  // "prefix-user@domain": the original is what follows some "-" of the local part and routes back to this address
  for (let dash = r.addr.indexOf("-"); dash >= 0 && dash < at; dash = r.addr.indexOf("-", dash + 1)) {
    const original = r.addr.slice(dash + 1);
    const again = rewrite(original, rules);
    if (again.channel === "local" && again.addr === r.addr) return original;
  }
  return r.addr;
}

/** The new split: pending recipients only (done ones stay done), each routed afresh. */
export function resplit(pending: readonly PendingRecord[], rules: RewriteRules): Split {
  const out: Record<Channel, string[]> = { local: [], remote: [] };
  for (const r of pending) {
    const routed = rewrite(originalRecipient(r, rules), rules);
    out[routed.channel].push(routed.addr);
  }
  return out;
}
