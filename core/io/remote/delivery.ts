import { dnsPermRecord, hostRecord, MESSAGE, type Record } from "../../lib/remote/report.ts";
import { cutAtSelf, domainListed, findRoute, ipLiteral, orderMx, SMTP_PORT, type Mx, type Route, type Target } from "../../lib/remote/mx.ts";
import { findCredentials, implicitTls, type Credentials } from "../../lib/remote/smtp-auth.ts";
import { isNullMx } from "../../lib/remote/dns-answer.ts";
import { ok, temp, type Result } from "../../lib/base/result.ts";
import { readControlLine, readControlList, readControlMap, readControlNumber } from "../base/control.ts";
import { lookupIps, lookupMx, type DnsOptions } from "./dns.ts";
import { localAddresses, nameServers } from "./resolv.ts";
import { checkPeer, converse, type Peer, type TlsPolicy, type Transaction } from "./smtp-client.ts";
import { atLeastEncrypt, levelFor, type TlsLevel } from "../../lib/tls/policy.ts";
import { formatTlsa } from "../../lib/tls/dane.ts";
import { readTlsControls, type TlsControls } from "../tls/controls.ts";
import { stsCacheDir } from "../tls/sts-cache.ts";
import { appendRpt, tlsRptDir } from "../tls/rpt-store.ts";
import { choose, type Session } from "./tls-choice.ts";
import type { TlsResult } from "./smtp-conn.ts";
import { readSmtpAuth, type SmtpAuth } from "./smtpauth.ts";
import { connectSmtp } from "./smtp-conn.ts";
import type { ConnPool } from "./smtp-pool.ts";
import type { Tcpto } from "./tcpto.ts";

// One remote delivery, as qmail-remote does it (docs/qmail.md §5.3): route or MX
// list, self-avoidance, downed hosts skipped, each address tried until one
// SMTP session decides. Shared by `qm remote` (one shot) and `qm rspawn`.

export interface RemoteConfig {
  readonly helo: string;
  readonly me: string;
  readonly locals: readonly string[];
  readonly routes: ReadonlyMap<string, string>;
  readonly tlsRequired: readonly string[];
  readonly connectMs: number;
  readonly remoteMs: number;
  readonly dns: DnsOptions;
  readonly localIps: ReadonlySet<string>;
  readonly random: () => number;
  /** control/smtpauth; missing: no credentials. */
  readonly auth?: SmtpAuth;
  /** control/tlspolicy and control/tlsca; missing: neither file. */
  readonly tls?: TlsControls;
  /** Where MTA-STS policies are cached (queue/lock/sts); missing: not cached. */
  readonly stsCache?: string;
  /** The MTA-STS policy server's port: 443, except in tests. */
  readonly stsPort?: number;
  /** Where TLS-RPT records go (queue/lock/tlsrpt); missing: not recorded. */
  readonly tlsRpt?: string;
}

/** The control files loadRemoteConfig() reads (resolvers missing: /etc/resolv.conf). */
export const REMOTE_FILES = ["me", "helohost", "locals", "smtproutes", "smtpauth", "tlsrequired", "tlspolicy", "tlsca", "timeoutconnect", "timeoutremote", "resolvers"] as const;

/** control/{me,helohost,locals,smtproutes,smtpauth,tlsrequired,tlspolicy,tlsca,timeoutconnect,timeoutremote,resolvers}. */
export async function loadRemoteConfig(home: string): Promise<Result<RemoteConfig>> {
  const me = await readControlLine(home, "me", null);
  if (me.kind !== "ok") return me;
  const helo = await readControlLine(home, "helohost", me.value);
  if (helo.kind !== "ok") return helo;
  if (!helo.value) return temp("Unable to read control/helohost or control/me");
  const locals = await readControlList(home, "locals");
  const routes = await readControlMap(home, "smtproutes");
  const tls = await readControlList(home, "tlsrequired");
  const connect = await readControlNumber(home, "timeoutconnect", 60);
  const remote = await readControlNumber(home, "timeoutremote", 1200);
  const servers = await nameServers(home);
  for (const r of [locals, routes, tls, connect, remote, servers]) if (r.kind !== "ok") return r;
  return ok({
    helo: helo.value,
    me: me.value ?? helo.value,
    locals: (locals.kind === "ok" && locals.value) || (me.value ? [me.value] : []),
    routes: routes.kind === "ok" ? routes.value : new Map(),
    tlsRequired: (tls.kind === "ok" && tls.value) || [],
    connectMs: Math.max(1, connect.kind === "ok" ? connect.value : 60) * 1000,
    remoteMs: Math.max(1, remote.kind === "ok" ? remote.value : 1200) * 1000,
    dns: { servers: servers.kind === "ok" ? servers.value : [], timeoutMs: 3000, tries: 2 },
    localIps: localAddresses(),
    random: Math.random,
    auth: readSmtpAuth(home),
    tls: await readTlsControls(home),
    stsCache: stsCacheDir(home),
    tlsRpt: tlsRptDir(home),
  });
}

/** secure: which DNS answers were DNSSEC-validated (the MX RRset, each exchange's addresses), for DANE. */
type Secure = { mx: boolean; address: Map<string, boolean> };
type Targets = { kind: "ok"; targets: Target[]; selfCheck: boolean; route: Route | null; secure: Secure } | { kind: "fail"; record: Record };
const INSECURE: Secure = { mx: false, address: new Map() };

async function addressesOf(cfg: RemoteConfig, mxs: readonly Mx[], port: number, secure?: Map<string, boolean>): Promise<Target[] | Record> {
  const out: Target[] = [];
  let tempSeen = false;
  const looked = await Promise.all(mxs.map((mx) => lookupIps(cfg.dns, mx.exchange)));
  mxs.forEach((mx, i) => {
    const a = looked[i]!;
    if (a.kind === "temp") tempSeen = true;
    if (a.kind === "ok") for (const ip of a.records) out.push({ ip, port, preference: mx.preference, exchange: mx.exchange });
    secure?.set(mx.exchange, a.kind === "ok" && a.secure === true);
  });
  if (out.length === 0) return tempSeen ? MESSAGE.dnsTemp : MESSAGE.noMx;
  return out;
}

/** The addresses to try for `host`, in order. */
async function targetsFor(cfg: RemoteConfig, host: string): Promise<Targets> {
  const route = findRoute(cfg.routes, host);
  if (route === "invalid") return { kind: "fail", record: { letter: "Z", text: "Unable to parse control/smtproutes. (#4.3.5)\n" } };
  const port = route?.port ?? SMTP_PORT;
  const name = route && route.relay !== "" ? route.relay : host;
  const literal = ipLiteral(name);
  if (literal) return { kind: "ok", targets: [{ ip: literal, port, preference: 0, exchange: name }], selfCheck: !route?.relay, route, secure: INSECURE };
  if (route && route.relay !== "") {
    // "[smtp.example.net]" (Postfix's relayhost form): the name's A/AAAA, as for a bare relay
    const bare = /^\[[^[\]]+\]$/.test(name) ? name.slice(1, -1) : name;
    const a = await addressesOf(cfg, [{ preference: 0, exchange: bare }], port);
    return Array.isArray(a) ? { kind: "ok", targets: a, selfCheck: false, route, secure: INSECURE } : { kind: "fail", record: a === MESSAGE.noMx ? dnsPermRecord(bare) : a };
  }
  const mx = await lookupMx(cfg.dns, name);
  if (mx.kind === "temp") return { kind: "fail", record: MESSAGE.dnsTemp };
  if (mx.kind === "nxdomain") return { kind: "fail", record: dnsPermRecord(name) };
  if (isNullMx(mx.records)) return { kind: "fail", record: MESSAGE.nullMx };
  const mxs = mx.records.length > 0 ? orderMx(mx.records, cfg.random) : [{ preference: 0, exchange: mx.canonical }];
  const secure: Secure = { mx: mx.secure === true, address: new Map() };
  const a = await addressesOf(cfg, mxs, port, secure.address);
  return Array.isArray(a) ? { kind: "ok", targets: a, selfCheck: true, route, secure } : { kind: "fail", record: a };
}

/** What a relay route needs: its credentials from control/smtpauth (or why none can be used). */
function credentialsFor(cfg: RemoteConfig, route: Route | null): Credentials | Record | null {
  if (!route || route.relay === "" || !cfg.auth) return null;
  if (cfg.auth.kind === "refused") return { letter: "Z", text: `${cfg.auth.reason}. (#4.3.0)\n` };
  return findCredentials(cfg.auth.entries, route);
}

function isMe(cfg: RemoteConfig, t: Target): boolean {
  const name = t.exchange.toLowerCase();
  if (name === cfg.me.toLowerCase() || domainListed(cfg.locals, name)) return true;
  return t.port === SMTP_PORT && cfg.localIps.has(t.ip.toLowerCase()); // our own listener is on port 25
}

/** qmail-remote's records for one message to `host`. */
export async function deliverRemote(cfg: RemoteConfig, tcpto: Tcpto, host: string, tx: Transaction, pool?: ConnPool): Promise<Record[]> {
  // an unusable TLS control never means less TLS: nothing goes out
  const tlsc = cfg.tls ?? { policy: null, ca: undefined };
  if (typeof tlsc.policy === "string") return [{ letter: "Z", text: `${tlsc.policy}. (#4.3.0)\n` }];
  if (typeof tlsc.ca === "string") return [{ letter: "Z", text: `${tlsc.ca}. (#4.3.0)\n` }];
  const found = await targetsFor(cfg, host);
  if (found.kind === "fail") return [found.record];
  const cut = found.selfCheck ? cutAtSelf(found.targets, (t) => isMe(cfg, t)) : found.targets;
  if (cut === null) return [MESSAGE.selfMx];
  const auth = credentialsFor(cfg, found.route);
  if (auth && "letter" in auth) return [auth];
  const chosen = levelFor(tlsc.policy, cfg.tlsRequired, host);
  // a password goes only over TLS: STARTTLS becomes mandatory, and no retry in plain text
  const level: TlsLevel = auth ? atLeastEncrypt(chosen.level) : chosen.level;
  const implicit = implicitTls(found.route?.port ?? SMTP_PORT);
  const relay = found.route !== null && found.route.relay !== "";
  const plans = await choose({
    host, level, from: chosen.from, relay, port: found.route?.port ?? SMTP_PORT, base: { ca: tlsc.ca, auth, implicit },
    secure: found.secure, dns: cfg.dns, sts: { cacheDir: cfg.stsCache ?? null, port: cfg.stsPort ?? 443 },
  }, cut);
  if (!Array.isArray(plans)) return [plans];
  let refused: Record[] | null = null;
  let anyTemp = false;
  for (const p of plans) {
    const t = p.t;
    if (tcpto.isDown(t.ip)) continue;
    if ("skip" in p) {
      await record(cfg, host, t, p.s, { ok: false, type: "dnssec-invalid" });
      [refused, anyTemp] = [[p.skip], true];
      continue;
    }
    const r = await attempt(cfg, tcpto, t, tx, p.s, pool);
    if (r === null) continue;
    if (r.tlsResult) await record(cfg, host, t, p.s, r.tlsResult);
    if (!r.next) return [...r.records];
    refused = [...r.records];
    if (r.records.at(-1)?.letter !== "D") anyTemp = true;
  }
  if (!refused) return [MESSAGE.noConn];
  const last = refused.at(-1)!;
  return [{ letter: anyTemp ? "Z" : last.letter, text: last.text }];
}

/** One session's TLS outcome into the TLS-RPT store (RFC 8460), when its policy is one that is reported. */
async function record(cfg: RemoteConfig, host: string, t: Target, s: Session, session: TlsResult): Promise<void> {
  if (!cfg.tlsRpt || !s.rpt) return;
  const result: TlsResult = s.rpt.failure ? { ok: false, type: s.rpt.failure } : session;
  await appendRpt(cfg.tlsRpt, {
    time: Date.now(), domain: host.toLowerCase().replace(/\.$/, ""), policyType: s.rpt.type, policyString: s.rpt.strings, mxHost: s.rpt.mx,
    ok: result.ok, resultType: result.ok ? undefined : result.type, receivingIp: t.ip, receivingMx: t.exchange,
  });
}

async function attempt(cfg: RemoteConfig, tcpto: Tcpto, t: Target, tx: Transaction, s: Session, pool?: ConnPool) {
  const { policy, auth } = s;
  const key = `${t.ip}\0${t.port}\0${policy}\0${s.verify ?? ""}\0${t.exchange}\0${cfg.helo}\0${s.implicit}\0${auth ? `auth:${auth.user}` : ""}\0${(s.tlsa ?? []).map(formatTlsa).join(",")}`;
  const peer: Omit<Peer, "tls"> = { ip: t.ip, name: t.exchange, auth: auth ?? undefined, verify: s.verify, tlsa: s.tlsa, ca: s.ca, why: s.why };
  const cached = pool?.take(key);
  if (cached) {
    const out = await converse(cached.conn, tx, { ...peer, tls: policy }, { keys: cached.keys, park: (keys) => pool!.put(key, { conn: cached.conn, keys }) });
    if (!out.stale) return out;
  }
  let first: TlsResult | undefined;
  for (let tries = 0; tries < 2; tries++) {
    const c = await connectSmtp(t.ip, t.port, cfg.connectMs, cfg.remoteMs);
    tcpto.record(t.ip, c.kind === "fail" && c.timedOut);
    if (c.kind === "fail") return null;
    if (s.implicit) {
      const info = await c.conn.startTls({ servername: t.exchange, ca: s.ca });
      const why = auth ? ", so I did not send the password from control/smtpauth" : "";
      if (!info) return { records: [hostRecord("Z", "Connected to ", t.ip, ` but the TLS handshake failed (implicit TLS on port ${t.port})${why}`, null)] };
      const bad = checkPeer(c.conn, info, { ...peer, tls: "must" });
      if (bad) {
        c.conn.quit();
        return { records: [hostRecord("Z", "Connected to ", t.ip, ` but ${bad} (implicit TLS on port ${t.port})${why}`, null)] };
      }
    }
    const tls: TlsPolicy = tries === 0 ? policy : "never";
    const park = pool && tries === 0 ? (keys: Map<string, string>) => pool.put(key, { conn: c.conn, keys }) : undefined;
    const out = await converse(c.conn, tx, { ...peer, tls }, { park });
    if (!(out.tlsFailed && policy === "may")) return first ? { ...out, tlsResult: first } : out;
    first = out.tlsResult; // opportunistic: one retry in plain text, reported as the failed handshake
  }
  return null;
}
