import { TIMEOUT_BUSY } from "./controls.ts";
import type { SmtpConn } from "./conn.ts";

/**
 * A full listener (qm-smtpd(8), timeoutbusy): this process's live sessions,
 * and the choice of one to close for a new client. Each SmtpConn made with
 * `live` as its registry is in it until its input ends or it closes.
 */
export const live = new Set<SmtpConn>();
/** control/timeoutbusy as the latest session read it, in ms. */
let busyMs = TIMEOUT_BUSY * 1000;

export function setTimeoutBusy(seconds: number): void {
  busyMs = seconds * 1000;
}

/**
 * The listener is at its session cap: the session that has kept us waiting
 * longest on its client, if that is over control/timeoutbusy, is told to end
 * with 421, and the new client gets its place. False when no session is
 * stalled that long.
 */
export function makeRoom(now = Date.now()): boolean {
  if (busyMs <= 0) return false;
  let worst: SmtpConn | null = null;
  let since = now - busyMs;
  for (const c of live) {
    const t = c.stalledSince;
    if (t !== null && t <= since) {
      worst = c;
      since = t;
    }
  }
  if (worst === null) return false;
  worst.kick(`421 4.3.2 too busy: closing this session, which waited ${Math.round((now - since) / 1000)} s on its client (timeoutbusy)`);
  return true;
}
