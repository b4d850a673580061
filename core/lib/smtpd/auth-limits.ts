/**
 * What password guessing costs (qm-smtpd(8) AUTHENTICATION): each failed AUTH
 * is answered later than the one before, and a client address that failed
 * too often in the last hour is not asked for a password at all, whichever
 * session it comes back in. Pure: the listener keeps one FailureWindow.
 */

/** The delay before answering a session's `failures`-th failed AUTH: doubling from 500 ms, at most `maxMs`. */
export function failureDelayMs(failures: number, maxMs: number): number {
  if (failures <= 0 || maxMs <= 0) return 0;
  return Math.min(maxMs, 500 * 2 ** Math.min(failures - 1, 20));
}

/** control/authdelay's default, milliseconds: ten failures in one session cost about a minute. */
export const AUTH_DELAY_MAX_MS = 8000;
/** control/authfailures's default: failed AUTHs a client address may have in an hour. */
export const AUTH_FAILURES_PER_HOUR = 30;
const HOUR_MS = 3_600_000;
/** Addresses remembered at most; the oldest go first (a flood of addresses cannot grow the listener without end). */
export const WINDOW_ADDRESSES = 100_000;

/** Failed AUTHs per client address over the last hour. */
export class FailureWindow {
  readonly #byIP = new Map<string, number[]>();
  readonly #max: number;

  constructor(maxAddresses = WINDOW_ADDRESSES) {
    this.#max = maxAddresses;
  }

  /** Failures of `ip` in the hour before `now`. */
  count(ip: string, now: number): number {
    const times = this.#byIP.get(ip);
    if (!times) return 0;
    const recent = times.filter((t) => now - t < HOUR_MS);
    if (recent.length === 0) this.#byIP.delete(ip);
    else this.#byIP.set(ip, recent);
    return recent.length;
  }

  /** One more failure of `ip` at `now`. */
  note(ip: string, now: number): void {
    const times = this.#byIP.get(ip) ?? [];
    this.#byIP.delete(ip); // re-inserted last: the Map's order is the eviction order
    times.push(now);
    if (times.length > 1000) times.splice(0, times.length - 1000);
    this.#byIP.set(ip, times);
    while (this.#byIP.size > this.#max) this.#byIP.delete(this.#byIP.keys().next().value!);
  }

  get size(): number {
    return this.#byIP.size;
  }
}
