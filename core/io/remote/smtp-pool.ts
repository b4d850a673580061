import type { SmtpConn } from "./smtp-conn.ts";

// Idle SMTP client connections kept for the next transaction to the same
// address (qm rspawn; Postfix's connection cache does the same): a message
// that follows skips the connect, greeting and EHLO. A connection waits at
// most `idleMs`, then says QUIT; at most `max` wait at once.

export interface Idle {
  readonly conn: SmtpConn;
  readonly keys: Map<string, string>;
}

export class ConnPool {
  readonly #idle = new Map<string, { idle: Idle; timer: ReturnType<typeof setTimeout> }[]>();
  readonly #idleMs: number;
  readonly #max: number;
  #count = 0;

  constructor(opts: { idleMs?: number; max?: number } = {}) {
    this.#idleMs = opts.idleMs ?? 2000;
    this.#max = opts.max ?? 50;
  }

  /** A connection to reuse for `key` (address, port, TLS policy, HELO name), or null. */
  take(key: string): Idle | null {
    const list = this.#idle.get(key);
    for (let e = list?.pop(); e; e = list?.pop()) {
      this.#count--;
      clearTimeout(e.timer);
      if (e.idle.conn.reusable) return e.idle;
      e.idle.conn.abort();
    }
    this.#idle.delete(key);
    return null;
  }

  /** Keeps a connection whose last transaction is complete; false (the caller says QUIT) when full. */
  put(key: string, idle: Idle): boolean {
    if (this.#count >= this.#max || !idle.conn.reusable) return false;
    const list = this.#idle.get(key) ?? [];
    const entry = {
      idle,
      timer: setTimeout(() => {
        const i = list.indexOf(entry);
        if (i >= 0) list.splice(i, 1), this.#count--;
        idle.conn.quit();
      }, this.#idleMs),
    };
    entry.timer.unref?.();
    list.push(entry);
    this.#idle.set(key, list);
    this.#count++;
    return true;
  }

  /** QUIT on every idle connection. */
  closeAll(): void {
    for (const list of this.#idle.values()) for (const e of list.splice(0)) {
      clearTimeout(e.timer);
      e.idle.conn.quit();
    }
    this.#idle.clear();
    this.#count = 0;
  }
}
