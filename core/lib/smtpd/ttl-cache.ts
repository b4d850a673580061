/**
 * A bounded map whose entries end after their own time to live (DNS
 * answers: a DNS list's answer is kept for its TTL). The clock is passed in.
 * At the bound, ended entries go first, then the oldest.
 */
export interface TtlCache<T> {
  readonly max: number;
  readonly entries: Map<string, { readonly value: T; readonly until: number }>;
}

export function newTtlCache<T>(max: number): TtlCache<T> {
  return { max, entries: new Map() };
}

export function cacheGet<T>(c: TtlCache<T>, key: string, now: number): T | undefined {
  const e = c.entries.get(key);
  if (!e) return undefined;
  if (e.until > now) return e.value;
  c.entries.delete(key);
  return undefined;
}

/** Keeps `value` for `ttlMs` (nothing is kept for 0). */
export function cachePut<T>(c: TtlCache<T>, key: string, value: T, ttlMs: number, now: number): void {
  if (ttlMs <= 0 || c.max <= 0) return;
  c.entries.delete(key);
  if (c.entries.size >= c.max) {
    for (const [k, e] of c.entries) if (e.until <= now) c.entries.delete(k);
    while (c.entries.size >= c.max) c.entries.delete(c.entries.keys().next().value as string);
  }
  c.entries.set(key, { value, until: now + ttlMs });
}
