import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import { networkInterfaces } from "node:os";
import { ok, temp, type Result } from "../../lib/base/result.ts";
import { readControlList } from "../base/control.ts";
import { isMissing } from "../base/errno.ts";

// Which DNS servers to ask: control/resolvers when present (split horizon,
// tests), else the nameserver lines of /etc/resolv.conf, else 127.0.0.1.
// A line of control/resolvers may end in the word "validating": that server
// checks DNSSEC itself, and its AD bit is believed (DANE, RFC 7672 §2.1);
// no other server's AD bit ever is.

export interface NameServer {
  readonly host: string;
  readonly port: number;
  /** Marked "validating" in control/resolvers: its AD bit is trusted. */
  readonly validating?: true;
}

const DEFAULT_SERVER: NameServer = { host: "127.0.0.1", port: 53 };
const MAX_SERVERS = 8;

/** "1.2.3.4", "1.2.3.4:5353", "::1", "[::1]:5353", each optionally followed by "validating" → a server; anything else → null. */
export function parseServer(text: string): NameServer | null {
  const words = text.trim().split(/[ \t]+/);
  if (words.length > 2 || (words.length === 2 && words[1]!.toLowerCase() !== "validating")) return null;
  const t = words[0]!;
  let host = t;
  let port = 53;
  const bracket = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(t);
  const v4port = /^([\d.]+):(\d{1,5})$/.exec(t);
  if (bracket) [host, port] = [bracket[1] ?? "", bracket[2] ? Number(bracket[2]) : 53];
  else if (v4port) [host, port] = [v4port[1] ?? "", Number(v4port[2])];
  if (isIP(host) === 0 || port < 1 || port > 65535) return null;
  return words.length === 2 ? { host, port, validating: true } : { host, port };
}

/** The nameserver lines of a resolv.conf text. */
export function parseResolvConf(text: string): NameServer[] {
  const out: NameServer[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    const s = m?.[1] ? parseServer(m[1].replace(/%.*$/, "")) : null;
    if (s) out.push(s);
  }
  return out.slice(0, MAX_SERVERS);
}

/** The servers to ask, in order. */
export async function nameServers(home: string, resolvConf = "/etc/resolv.conf"): Promise<Result<NameServer[]>> {
  const list = await readControlList(home, "resolvers");
  if (list.kind !== "ok") return list;
  if (list.value !== null) {
    const servers = list.value.map(parseServer).filter((s): s is NameServer => s !== null).slice(0, MAX_SERVERS);
    return servers.length > 0 ? ok(servers) : temp("control/resolvers names no usable address");
  }
  try {
    const servers = parseResolvConf(await readFile(resolvConf, "latin1"));
    return ok(servers.length > 0 ? servers : [DEFAULT_SERVER]);
  } catch (err) {
    return isMissing(err) ? ok([DEFAULT_SERVER]) : temp(`Unable to read ${resolvConf}`);
  }
}

/** This host's addresses (qmail's ipme, with IPv6 and the wildcard addresses). */
export function localAddresses(): Set<string> {
  const out = new Set<string>(["0.0.0.0", "::"]);
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(a.address.toLowerCase());
  return out;
}
