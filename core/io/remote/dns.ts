import { randomInt } from "node:crypto";
import { createSocket } from "node:dgram";
import { connect, isIP } from "node:net";
import dnsPacket from "dns-packet";
import { CNAME_MAX, extract, isReplyTo, type Answer, type DnsMessage, type QType } from "../../lib/remote/dns-answer.ts";
import type { Mx } from "../../lib/remote/mx.ts";
import type { NameServer } from "./resolv.ts";

// DNS over UDP (TCP when the answer is truncated), with dns-packet: the only
// file that imports it. A reply is believed only when it comes from the
// server asked, carries our random id and repeats our question; anything
// else is dropped and the wait goes on until the timeout.

export interface DnsOptions {
  readonly servers: readonly NameServer[];
  /** Wait for one server's answer (ms). */
  readonly timeoutMs?: number;
  /** Rounds over the server list. */
  readonly tries?: number;
}

const UDP_PAYLOAD = 1232; // EDNS0 buffer size the DNS flag day 2020 settled on
const TCP_MAX = 65535;
// AD in a query asks a validating resolver to say whether it validated the
// answer, without DNSSEC records in the reply (RFC 6840 §5.7)
const QUERY_FLAGS = dnsPacket.RECURSION_DESIRED | dnsPacket.AUTHENTIC_DATA;

type Raw = { kind: "msg"; msg: DnsMessage } | { kind: "truncated" } | { kind: "none"; reason: string };

function encodeQuery(id: number, name: string, type: QType, edns: boolean): Buffer {
  return dnsPacket.encode({
    type: "query",
    id,
    flags: QUERY_FLAGS,
    questions: [{ type, name }],
    additionals: edns ? [{ type: "OPT", name: ".", udpPayloadSize: UDP_PAYLOAD } as never] : [],
  });
}

function decode(buf: Buffer): DnsMessage | null {
  try {
    const msg = dnsPacket.decode(buf) as unknown as DnsMessage;
    return dnsPacket.decode.bytes === buf.length ? msg : null; // counts and length must agree
  } catch {
    return null;
  }
}

function udpQuery(server: NameServer, name: string, type: QType, timeoutMs: number): Promise<Raw> {
  const id = randomInt(65536);
  const sock = createSocket(isIP(server.host) === 6 ? "udp6" : "udp4");
  return new Promise<Raw>((resolve) => {
    const done = (r: Raw) => {
      clearTimeout(timer);
      sock.close();
      resolve(r);
    };
    const timer = setTimeout(() => done({ kind: "none", reason: "timed out" }), timeoutMs);
    sock.on("error", (err) => done({ kind: "none", reason: err.message }));
    sock.on("message", (buf, rinfo) => {
      if (rinfo.port !== server.port || rinfo.address.toLowerCase() !== server.host.toLowerCase()) return;
      if (buf.length < 12 || buf.readUInt16BE(0) !== id) return;
      if ((buf.readUInt16BE(2) & dnsPacket.TRUNCATED_RESPONSE) !== 0) return done({ kind: "truncated" });
      const msg = decode(buf);
      if (msg && isReplyTo(msg, id, name, type)) done({ kind: "msg", msg });
    });
    sock.send(encodeQuery(id, name, type, true), server.port, server.host);
  });
}

function tcpQuery(server: NameServer, name: string, type: QType, timeoutMs: number): Promise<Raw> {
  const id = randomInt(65536);
  return new Promise<Raw>((resolve) => {
    const sock = connect({ host: server.host, port: server.port });
    let got = Buffer.alloc(0);
    const done = (r: Raw) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done({ kind: "none", reason: "timed out over TCP" }), timeoutMs);
    sock.on("error", (err) => done({ kind: "none", reason: err.message }));
    sock.on("close", () => done({ kind: "none", reason: "TCP connection closed" }));
    sock.on("connect", () => sock.write(dnsPacket.streamEncode(dnsPacketQuery(id, name, type))));
    sock.on("data", (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length > TCP_MAX + 2) return done({ kind: "none", reason: "TCP answer too long" });
      if (got.length < 2 || got.length < 2 + got.readUInt16BE(0)) return;
      const msg = decode(got.subarray(2, 2 + got.readUInt16BE(0)));
      done(msg && isReplyTo(msg, id, name, type) ? { kind: "msg", msg } : { kind: "none", reason: "bad TCP answer" });
    });
  });
}

function dnsPacketQuery(id: number, name: string, type: QType): dnsPacket.Packet {
  return { type: "query", id, flags: QUERY_FLAGS, questions: [{ type, name }] };
}

/**
 * One question, asked of each server in turn (`tries` rounds) until one
 * gives a usable answer. `secure`: the server is marked validating and set AD.
 */
export async function ask(opts: DnsOptions, name: string, type: QType): Promise<{ kind: "msg"; msg: DnsMessage; secure: boolean } | { kind: "temp"; reason: string }> {
  const timeoutMs = opts.timeoutMs ?? 2500;
  let reason = "no DNS server configured";
  for (let round = 0; round < (opts.tries ?? 2); round++) {
    for (const server of opts.servers) {
      let raw = await udpQuery(server, name, type, timeoutMs);
      if (raw.kind === "truncated") raw = await tcpQuery(server, name, type, timeoutMs);
      if (raw.kind === "none" || raw.kind === "truncated") {
        reason = raw.kind === "none" ? raw.reason : "truncated";
        continue;
      }
      if (raw.msg.rcode === "NOERROR" || raw.msg.rcode === "NXDOMAIN") return { ...raw, secure: server.validating === true && raw.msg.flag_ad === true };
      reason = `DNS server said ${String(raw.msg.rcode)}`; // SERVFAIL, REFUSED: ask the next one
    }
  }
  return { kind: "temp", reason };
}

/** Records of `type` for `name`, CNAMEs followed across queries (CNAME_MAX links in all). */
export async function lookup<T>(opts: DnsOptions, name: string, type: QType): Promise<Answer<T>> {
  let current = name;
  let budget = CNAME_MAX;
  let secure = true;
  for (;;) {
    const got = await ask(opts, current, type);
    if (got.kind === "temp") return got;
    secure &&= got.secure;
    const a = extract<T>(got.msg, current, type, budget);
    if (a.kind === "loop") return { kind: "temp", reason: "CNAME chain too long" };
    if (a.kind !== "ok" || a.chaseTo === undefined) return a.kind === "temp" ? a : { ...a, secure };
    budget -= countLinks(got.msg);
    if (budget < 0) return { kind: "temp", reason: "CNAME chain too long" };
    current = a.chaseTo;
  }
}

function countLinks(msg: DnsMessage): number {
  return (msg.answers ?? []).filter((r) => r.type === "CNAME").length;
}

export function lookupMx(opts: DnsOptions, name: string): Promise<Answer<Mx>> {
  return lookup<Mx>(opts, name, "MX");
}

/** A and AAAA together, IPv4 first. NXDOMAIN only when both say so; temporary when one fails and nothing was found. */
export async function lookupIps(opts: DnsOptions, name: string): Promise<Answer<string>> {
  const [a, aaaa] = await Promise.all([lookup<string>(opts, name, "A"), lookup<string>(opts, name, "AAAA")]);
  const found = [a, aaaa].flatMap((x) => (x.kind === "ok" ? x.records : []));
  const secure = a.kind !== "temp" && aaaa.kind !== "temp" && a.secure === true && aaaa.secure === true;
  if (found.length > 0) return { kind: "ok", records: [...new Set(found)], canonical: a.kind === "ok" ? a.canonical : name, secure };
  if (a.kind === "temp") return a;
  if (aaaa.kind === "temp") return aaaa;
  if (a.kind === "nxdomain") return a;
  return { kind: "ok", records: [], canonical: name };
}
