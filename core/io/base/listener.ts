import { readFileSync, statSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { matchRules, parseRules, type Rule } from "../../lib/base/access-rules.ts";
import { parseIP, formatIP } from "../../lib/base/ip-addr.ts";
import { ok, perm, temp, type Result } from "../../lib/base/result.ts";
import { errText } from "./errno.ts";
import { changedControls, stampControls } from "./control-stamp.ts";
import { reloadLine } from "../../lib/base/reload.ts";
import { getpwnam } from "./passwd.ts";
import { switchTo } from "./privilege.ts";
import { uid } from "./sys.ts";

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
  /** At the session cap: try to free a place (a stalled session is told to end); true when one was freed. */
  readonly makeRoom?: () => boolean;
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
    if (active >= opts.maxSessions && !(opts.makeRoom?.() ?? false)) return refuse(sock, "421 4.3.2 too many sessions, try again later");
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

export interface ServeOptions {
  readonly name: string; // "smtpd", "qmqpd": the start of its log lines
  readonly home: string;
  readonly listen: readonly string[]; // IP:PORT, [IPv6]:PORT
  readonly rulesFile: string; // a file in control/
  readonly missingRules: string; // the rules when that file does not exist
  /** a rules file that does not parse: "keep" the last good rules (refuse to start without), or "deny" everyone */
  readonly brokenRules: "keep" | "deny";
  readonly maxSessions: number;
  readonly maxPerIP: number;
  readonly user: string; // as root, the account to serve as once bound (never root)
  readonly session: (sock: Socket, info: ClientInfo) => Promise<void>;
  readonly log: (line: string) => void;
  readonly ready?: (l: Listener) => void;
  /** words after the addresses in the "listening on" line (smtpd: its mode and limits) */
  readonly detail?: string;
  /** The control files the sessions read, for the reload line (the rules file is added). */
  readonly controls?: readonly string[];
  /** At the session cap: free a place if a session may give its up (ListenOptions.makeRoom). */
  readonly makeRoom?: () => boolean;
  /** SIGHUP, after the rules file has been read again: forget what is cached. */
  readonly reload?: () => void;
}

/**
 * Listen mode, the same for qm smtpd and qm qmqpd: bind, drop to the
 * server's user, say where it listens, serve until SIGTERM or SIGINT, close.
 * The rules file is read again for a connection when it has changed. SIGHUP
 * reads it at once, calls `reload`, and logs one line naming the control
 * files that changed since the last (qm-log(5)).
 */
export async function serve(o: ServeOptions): Promise<Result<void>> {
  let onHup = (): void => {}; // a SIGHUP before the listener is up changes nothing (and must not kill it)
  const hup = (): void => onHup();
  process.on("SIGHUP", hup);
  try {
    return await serveUntilStopped(o, (f) => (onHup = f));
  } finally {
    process.off("SIGHUP", hup);
  }
}

async function serveUntilStopped(o: ServeOptions, onHup: (f: () => void) => void): Promise<Result<void>> {
  const addrs = [];
  for (const text of o.listen) {
    const a = parseListenAddress(text);
    if (a.kind !== "ok") return a;
    addrs.push(a.value);
  }
  if (addrs.length === 0) return perm("Nothing to listen on: give --listen IP:PORT", "5.3.5");
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(o.rulesFile)) return perm("--rules names a file in control/", "5.3.5");
  const rules = rulesSource(join(o.home, "control", o.rulesFile), o);
  const first = rules.read();
  if (first.kind !== "ok" && o.brokenRules === "keep") return first;
  const listener = await listen(addrs, {
    maxSessions: o.maxSessions,
    maxPerIP: o.maxPerIP,
    rules: () => rules.current(),
    onError: (what) => o.log(`${o.name}: warning: ${what}`),
    session: o.session,
    makeRoom: o.makeRoom,
  });
  if (listener.kind !== "ok") return listener;
  const dropped = await dropPrivileges(o.user);
  if (dropped.kind !== "ok") {
    await listener.value.close();
    return dropped;
  }
  o.log(`${o.name}: listening on ${listener.value.addresses.map((a) => `${a.address}:${a.port}`).join(" ")}${o.detail ? ` ${o.detail}` : ""}`);
  const files = [...(o.controls ?? []), o.rulesFile];
  let stamps = stampControls(o.home, files); // as the server's user: what it can read from now on
  onHup(() => {
    rules.read();
    o.reload?.();
    const now = stampControls(o.home, files);
    o.log(reloadLine(o.name, changedControls(stamps, now)));
    stamps = now;
  });
  o.ready?.(listener.value);
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  await listener.value.close();
  return ok(undefined);
}

const DENY_ALL: Rule = { net: null, bits: -1, allow: false, env: new Map(), line: 0 };

/** The rules file, parsed again when its stamp (mtime, size, inode) changes. */
function rulesSource(file: string, o: ServeOptions): { read(): Result<readonly Rule[]>; current(): readonly Rule[] } {
  let stamp = "";
  let rules: readonly Rule[] = [DENY_ALL];
  const read = (): Result<readonly Rule[]> => {
    let text = o.missingRules;
    let now = "missing";
    try {
      const st = statSync(file);
      now = `${st.mtimeMs}/${st.size}/${st.ino}`;
      if (now !== stamp) text = readFileSync(file, "latin1");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") now = `error ${errText(err)}`;
    }
    if (now === stamp) return ok(rules);
    stamp = now;
    const parsed = now.startsWith("error ") ? temp(`Unable to read ${file}: ${now.slice(6)}`, "4.3.0") : parsed0(text, file);
    if (parsed.kind === "ok") rules = parsed.value;
    else if (o.brokenRules === "deny") {
      o.log(`${o.name}: warning: ${parsed.reason}; refusing every client until it is fixed`);
      rules = [DENY_ALL];
    } else o.log(`${o.name}: warning: ${parsed.reason}; the last good rules stay in force`);
    return parsed;
  };
  return { read, current: () => (read(), rules) };
}

function parsed0(text: string, file: string): Result<readonly Rule[]> {
  const r = parseRules(text);
  return r.kind === "ok" ? r : { ...r, reason: `${file}: ${r.reason}` };
}

/** As root: become `user` (never uid 0). Not root: stay. */
async function dropPrivileges(user: string): Promise<Result<void>> {
  if (uid() !== 0) return ok(undefined);
  const pw = await getpwnam(user);
  if (!pw) return perm(`No such account ${user}: create it or name another with --user`, "5.3.5");
  const r = switchTo(pw.uid, pw.gid);
  return r.kind === "ok" ? ok(undefined) : r;
}

/** "::ffff:192.0.2.1" -> "192.0.2.1"; canonical form for IPv6. */
export function normalIP(text: string): string {
  const ip = parseIP(text);
  return ip ? formatIP(ip) : text || "unknown";
}

/** This host's interface addresses, normalized: the IPs a listener may be reached at. */
export function localAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(normalIP(a.address));
  return out;
}
