/**
 * qmail-send's recipient classification (docs/qmail.md §2.3) and the small address
 * transformations send makes for its spawners and bounces: VERP expansion
 * (§2.5) and the virtualdomain prefix removed in bounce paragraphs (§2.9).
 * Pure: the caller reads the control files.
 */
import type { SrsReversal } from "../base/srs.ts";

export type Channel = "local" | "remote";

export interface RewriteRules {
  /** control/locals, lowercased (missing file: control/me). */
  readonly locals: ReadonlySet<string>;
  /** control/virtualdomains, keys lowercased, later line wins (readControlMap). */
  readonly virtualdomains: ReadonlyMap<string, string>;
  /** control/percenthack, lowercased. */
  readonly percenthack: ReadonlySet<string>;
  /** control/envnoathost (default me, else "envnoathost"). */
  readonly envnoathost: string;
  /** control/srs's reversal (io/base/srs.ts): an SRS address of ours → the original; absent: SRS off. */
  readonly srs?: (addr: string) => SrsReversal | null;
}

export interface Routed {
  readonly channel: Channel;
  readonly addr: string;
}

// A chain of percent hacks ends when no "%" is left; this bounds hostile input anyway.
const MAX_PERCENT = 100;

/** Where a recipient goes and what the channel file stores for it. */
export function rewrite(recipient: string, rules: RewriteRules): Routed {
  let addr = recipient.includes("@") ? recipient : `${recipient}@${rules.envnoathost}`;
  // a bounce to an SRS address made here goes back to the original sender (a bad one routes on, and is unknown)
  const back = rules.srs?.(addr);
  if (back?.kind === "ok") addr = back.addr;
  for (let n = 0; n < MAX_PERCENT; n++) {
    const at = addr.lastIndexOf("@");
    if (!rules.percenthack.has(addr.slice(at + 1).toLowerCase())) break;
    const pct = addr.lastIndexOf("%", at);
    if (pct < 0) break;
    addr = `${addr.slice(0, pct)}@${addr.slice(pct + 1, at)}`;
  }
  const at = addr.lastIndexOf("@");
  const domain = addr.slice(at + 1).toLowerCase();
  if (rules.locals.has(domain)) return { channel: "local", addr };
  const prepend = virtualPrepend(addr.toLowerCase(), domain, rules.virtualdomains);
  if (prepend === null || prepend === "") return { channel: "remote", addr };
  // an LMTP route: qm rspawn delivers to that server, the address unchanged
  if (prepend.startsWith("lmtp:")) return { channel: "remote", addr };
  return { channel: "local", addr: `${prepend}-${addr}` };
}

/**
 * The LMTP route control/virtualdomains gives an address (`lmtp:...`, as
 * written), or null when its first hit is no route (qm rspawn asks this for
 * each delivery, with the file as it is then).
 */
export function lmtpRouteOf(addr: string, virtualdomains: ReadonlyMap<string, string>): string | null {
  const at = addr.lastIndexOf("@");
  if (at < 0) return null;
  const hit = virtualPrepend(addr.toLowerCase(), addr.slice(at + 1).toLowerCase(), virtualdomains);
  return hit !== null && hit.startsWith("lmtp:") ? hit : null;
}

/** The first virtualdomains hit: user@domain, domain, each .suffix, then "". */
function virtualPrepend(lowerAddr: string, domain: string, vd: ReadonlyMap<string, string>): string | null {
  if (vd.size === 0) return null;
  for (const key of probeKeys(lowerAddr, domain)) {
    const hit = vd.get(key);
    if (hit !== undefined) return hit;
  }
  return null;
}

function probeKeys(lowerAddr: string, domain: string): string[] {
  const keys = [lowerAddr, domain];
  for (let i = 0; i < domain.length; i++) if (domain[i] === ".") keys.push(domain.slice(i));
  keys.push("");
  return keys;
}

/**
 * The bounce paragraph's address: a local address made by a virtualdomain
 * entry loses its "prepend-" again (docs/qmail.md §2.9); newlines become "_".
 */
export function bounceRecipient(addr: string, rules: RewriteRules): string {
  const at = addr.lastIndexOf("@");
  let out = addr;
  if (at >= 0) {
    const domain = addr.slice(at + 1).toLowerCase();
    const keys = probeKeys(domain, domain).slice(1);
    const prepend = keys.map((k) => rules.virtualdomains.get(k)).find((v) => v !== undefined);
    if (prepend && addr.startsWith(`${prepend}-`)) out = addr.slice(prepend.length + 1);
  }
  return out.replace(/\n/g, "_");
}

/**
 * VERP (docs/qmail.md §2.5): a sender `pre@host-@[]` becomes `prebox=rhost@host`
 * for recipient `box@rhost`; any other sender is passed as is.
 */
export function verpSender(sender: string, recipient: string): string {
  if (!sender.endsWith("-@[]")) return sender;
  const rat = recipient.lastIndexOf("@");
  if (rat < 0) return sender;
  const base = sender.slice(0, -4);
  const sat = base.lastIndexOf("@");
  const pre = sat < 0 ? base : base.slice(0, sat);
  const host = sat < 0 ? "" : base.slice(sat);
  return `${pre}${recipient.slice(0, rat)}=${recipient.slice(rat + 1)}${host}`;
}
