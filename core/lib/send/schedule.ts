/**
 * qmail-send's retry arithmetic (docs/qmail.md §2.6). Times are Unix seconds.
 * A message is born at its info file's mtime; a pass that leaves a recipient
 * deferred reschedules the message at birth + n², n = ⌊√age⌋ + chanskip.
 */
import type { Channel } from "./rewrite.ts";

/** chanskip: local retries fall at (10k)² s after birth, remote at (20k)² s. */
export const CHANSKIP: Readonly<Record<Channel, number>> = { local: 10, remote: 20 };
/** control/queuelifetime default: 7 days. */
export const QUEUE_LIFETIME = 604800;
/** conf-spawn: the silent cap on either concurrency. */
export const MAX_CONCURRENCY = 120;
export const DEFAULT_CONCURRENCY: Readonly<Record<Channel, number>> = { local: 10, remote: 20 };

/** The next attempt after a pass started at `now` left a recipient deferred; always > now. */
export function nextRetry(birth: number, now: number, channel: Channel): number {
  const age = now - birth;
  const n = (age > 0 ? Math.floor(Math.sqrt(age)) : 0) + CHANSKIP[channel];
  return Math.max(birth + n * n, now + 1);
}

/** A pass that starts after the lifetime is the last one: its deferrals become failures. */
export function isDying(birth: number, now: number, lifetime: number): boolean {
  return now > birth + lifetime;
}

/** A concurrency control value capped as qmail-send caps it (0 holds the channel). */
export function capConcurrency(n: number): number {
  return Math.min(Math.max(0, Math.floor(n)), MAX_CONCURRENCY);
}
