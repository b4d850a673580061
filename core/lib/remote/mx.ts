/**
 * Routing and MX selection (docs/qmail.md §5.3): smtproutes lookup, MX ordering
 * with shuffled ties, and the "is this MX me?" cut. Pure: randomness and the
 * self test are passed in.
 */

export const SMTP_PORT = 25;

/** A route from control/smtproutes. relay "" means "normal MX lookup" (on `port`). */
export interface Route {
  readonly relay: string;
  readonly port: number;
}

/** "relay[:port]" → Route; null when the port is not a number 1..65535. */
export function parseRouteValue(value: string): Route | null {
  let relay = value;
  let portText = "";
  if (value.startsWith("[")) {
    const close = value.indexOf("]");
    if (close < 0) return null;
    relay = value.slice(0, close + 1);
    const after = value.slice(close + 1);
    if (after !== "" && !after.startsWith(":")) return null;
    portText = after.slice(1);
  } else {
    const colon = value.indexOf(":");
    if (colon >= 0) [relay, portText] = [value.slice(0, colon), value.slice(colon + 1)];
  }
  if (portText === "") return { relay, port: SMTP_PORT };
  if (!/^\d{1,5}$/.test(portText)) return null;
  const port = Number(portText);
  return port >= 1 && port <= 65535 ? { relay, port } : null;
}

/**
 * smtproutes lookup, first hit wins: the whole host, each ".suffix", then ""
 * (the default route). `routes` has lowercased keys (readControlMap).
 * "invalid" when the matching line has a bad port.
 */
export function findRoute(routes: ReadonlyMap<string, string>, host: string): Route | "invalid" | null {
  const h = host.toLowerCase();
  const keys = [h];
  for (let i = h.indexOf("."); i >= 0; i = h.indexOf(".", i + 1)) keys.push(h.slice(i));
  keys.push("");
  for (const k of keys) {
    const v = routes.get(k);
    if (v !== undefined) return parseRouteValue(v) ?? "invalid";
  }
  return null;
}

/** "[1.2.3.4]", "1.2.3.4", "[IPv6:::1]" → the address; anything else → null. */
export function ipLiteral(host: string): string | null {
  const inner = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(inner) && inner.split(".").every((o) => Number(o) <= 255)) return inner;
  const v6 = /^ipv6:(.+)$/i.exec(inner)?.[1];
  if (v6 !== undefined && host.startsWith("[") && /^[0-9a-fA-F:.]+$/.test(v6) && v6.includes(":")) return v6.toLowerCase();
  return null;
}

export interface Mx {
  readonly preference: number;
  readonly exchange: string;
}

/** Ascending preference; equal preferences in random order (`random` ∈ [0,1), injected). */
export function orderMx(mxs: readonly Mx[], random: () => number): Mx[] {
  const keyed = mxs.map((mx) => ({ mx, r: random() }));
  keyed.sort((a, b) => a.mx.preference - b.mx.preference || a.r - b.r);
  return keyed.map((k) => k.mx);
}

/** One address to try, with its MX's name and preference. */
export interface Target {
  readonly ip: string;
  readonly port: number;
  readonly preference: number;
  readonly exchange: string;
}

/**
 * qmail's self-avoidance: the lowest preference at which this host appears
 * ends the list; everything before it is eligible. null when this host is a
 * best-preference MX (nothing eligible).
 */
export function cutAtSelf(targets: readonly Target[], isMe: (t: Target) => boolean): Target[] | null {
  let prefme = Infinity;
  for (const t of targets) if (isMe(t) && t.preference < prefme) prefme = t.preference;
  const eligible = targets.filter((t) => t.preference < prefme);
  return eligible.length === 0 && targets.length > 0 ? null : eligible;
}

/** A domain is listed by a host-name list (control/locals, control/tlsrequired): exact, or ".suffix" entries. */
export function domainListed(list: readonly string[], domain: string): boolean {
  const d = domain.toLowerCase().replace(/\.$/, "");
  return list.some((e) => {
    const l = e.toLowerCase();
    return l === d || (l.startsWith(".") && d.endsWith(l));
  });
}
