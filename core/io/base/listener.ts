import { createServer, type Server, type Socket } from "node:net";
import { matchRules, type Rule } from "../../lib/base/access-rules.ts";
import { parseIP, formatIP } from "../../lib/base/ip-addr.ts";
import { ok, perm, temp, type Result } from "../../lib/base/result.ts";
import { errText } from "./errno.ts";

/**
 * The listener: node:net servers on the given addresses, a global and a
 * per-client-IP session limit, and the access rules (qm-smtpd-rules(5)).
 * Each accepted connection is handed to `session`; a refused one gets one
 * reply line and is closed. One session's trouble never reaches another.
 */
export interface ClientInfo {
  readonly remoteIP: string;
  readonly remotePort: number;
  readonly localIP: string;
  readonly localPort: number;
  readonly env: ReadonlyMap<string, string>; // from the matching rule
}

export interface ListenOptions {
  readonly maxSessions: number;
  readonly maxPerIP: number;
  readonly rules: () => readonly Rule[];
  readonly session: (sock: Socket, info: ClientInfo) => Promise<void>;
  readonly onError?: (what: string) => void;
}

export interface Listener {
  readonly addresses: readonly { address: string; port: number }[];
  readonly active: () => number;
  close(): Promise<void>;
}

/** "127.0.0.1:25", "[::1]:2525", ":25" (all IPv4) -> host and port. */
export function parseListenAddress(text: string): Result<{ host: string; port: number }> {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const host = m ? (m[1] ?? m[2] ?? "") : "";
  const port = m ? Number(m[3]) : -1;
  if (!m || port > 65535 || (host !== "" && !parseIP(host))) return perm(`Bad listen address ${text}: use IP:PORT or [IPv6]:PORT`, "5.3.5");
  return ok({ host: host === "" ? "0.0.0.0" : host, port });
}

export async function listen(addrs: readonly { host: string; port: number }[], opts: ListenOptions): Promise<Result<Listener>> {
  const perIP = new Map<string, number>();
  let active = 0;
  const sockets = new Set<Socket>();
  const onConnection = (sock: Socket): void => {
    sock.setNoDelay(true);
    sock.on("error", () => {});
    const ip = normalIP(sock.remoteAddress ?? "");
    const verdict = matchRules(opts.rules(), ip);
    if (!verdict.allow) return refuse(sock, "554 5.7.1 sorry, connections from your address are not accepted here");
    if (active >= opts.maxSessions) return refuse(sock, "421 4.3.2 too many sessions, try again later");
    const mine = perIP.get(ip) ?? 0;
    if (mine >= opts.maxPerIP) return refuse(sock, "421 4.7.0 too many sessions from your address, try again later");
    active++;
    perIP.set(ip, mine + 1);
    sockets.add(sock);
    const info: ClientInfo = { remoteIP: ip, remotePort: sock.remotePort ?? 0, localIP: normalIP(sock.localAddress ?? ""), localPort: sock.localPort ?? 0, env: verdict.env };
    const done = (): void => {
      active--;
      const n = (perIP.get(ip) ?? 1) - 1;
      if (n <= 0) perIP.delete(ip);
      else perIP.set(ip, n);
      sockets.delete(sock);
      sock.destroy();
    };
    opts.session(sock, info).then(done, (err: unknown) => {
      opts.onError?.(`session from ${ip} failed: ${errText(err)}`);
      done();
    });
  };
  const servers: Server[] = [];
  const bound: { address: string; port: number }[] = [];
  for (const a of addrs) {
    const server = createServer({ noDelay: true }, onConnection);
    const err = await new Promise<unknown>((resolve) => {
      server.once("error", resolve);
      server.listen({ host: a.host, port: a.port, backlog: 511, ipv6Only: a.host.includes(":") }, () => resolve(null));
    });
    if (err) {
      for (const s of servers) s.close();
      return temp(`Unable to listen on ${a.host}:${a.port}: ${errText(err)}`, "4.3.0");
    }
    server.on("error", (e) => opts.onError?.(`listener error: ${errText(e)}`));
    const addr = server.address();
    if (addr && typeof addr === "object") bound.push({ address: addr.address, port: addr.port });
    servers.push(server);
  }
  return ok({
    addresses: bound,
    active: () => active,
    close: async () => {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
      for (const s of sockets) s.destroy();
    },
  });
}

function refuse(sock: Socket, line: string): void {
  sock.end(`${line}\r\n`);
  setTimeout(() => sock.destroy(), 2000).unref();
}

/** "::ffff:192.0.2.1" -> "192.0.2.1"; canonical form for IPv6. */
export function normalIP(text: string): string {
  const ip = parseIP(text);
  return ip ? formatIP(ip) : text || "unknown";
}
