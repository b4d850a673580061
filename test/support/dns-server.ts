// A small authoritative DNS server for tests, on 127.0.0.1 (UDP and TCP on
// the same port), written with dns-packet. Zone data and misbehaviour are
// given per name.
import { createSocket, type Socket } from "node:dgram";
import { createServer, type Server } from "node:net";
import dnsPacket from "dns-packet";

export interface ZoneRecord {
  readonly type: "A" | "AAAA" | "MX" | "CNAME" | "TXT" | "PTR" | "TLSA";
  readonly data: unknown;
  readonly name?: string;
}
export interface NameEntry {
  readonly records?: readonly ZoneRecord[];
  /** "servfail": rcode SERVFAIL; "truncate": UDP answers carry TC and no records; "drop": never answer;
   *  "spoof": first a reply with a wrong id (and one from the wrong question), then the real one. */
  readonly behave?: "servfail" | "truncate" | "drop" | "spoof";
  /** Set the AD bit on answers for this name, as a validating resolver does for signed data. */
  readonly ad?: boolean;
}
export interface DnsServer {
  readonly port: number;
  readonly queries: string[];
  close(): Promise<void>;
}

function answerFor(zone: ReadonlyMap<string, NameEntry>, q: dnsPacket.Question, tcp: boolean) {
  const name = q.name.toLowerCase();
  const entry = zone.get(name);
  if (!entry) return { rcode: "NXDOMAIN", answers: [] as dnsPacket.Answer[], tc: false, ad: false };
  const ad = entry.ad === true;
  if (entry.behave === "servfail") return { rcode: "SERVFAIL", answers: [], tc: false, ad };
  if (entry.behave === "truncate" && !tcp) return { rcode: "NOERROR", answers: [], tc: true, ad };
  const recs = (entry.records ?? []).filter((r) => r.type === q.type || r.type === "CNAME");
  const answers = recs.map((r) => ({ type: r.type, name: r.name ?? q.name, ttl: 60, class: "IN", data: r.data }) as dnsPacket.Answer);
  return { rcode: "NOERROR", answers, tc: false, ad };
}

function reply(zone: ReadonlyMap<string, NameEntry>, query: dnsPacket.DecodedPacket, tcp: boolean, idDelta = 0): Buffer {
  const q = query.questions?.[0] ?? { type: "A", name: "" };
  const a = answerFor(zone, q as dnsPacket.Question, tcp);
  const rcodeBits = a.rcode === "NXDOMAIN" ? 3 : a.rcode === "SERVFAIL" ? 2 : 0;
  const flags = dnsPacket.AUTHORITATIVE_ANSWER | (a.tc ? dnsPacket.TRUNCATED_RESPONSE : 0) | (a.ad ? dnsPacket.AUTHENTIC_DATA : 0) | rcodeBits;
  return dnsPacket.encode({ type: "response", id: ((query.id ?? 0) + idDelta) & 0xffff, flags, questions: [q as dnsPacket.Question], answers: a.answers });
}

export async function startDnsServer(zone: ReadonlyMap<string, NameEntry>): Promise<DnsServer> {
  const queries: string[] = [];
  for (let attempt = 0; attempt < 20; attempt++) {
    const udp: Socket = createSocket("udp4");
    await new Promise<void>((res) => udp.bind(0, "127.0.0.1", res));
    const port = udp.address().port;
    const tcp: Server = createServer((sock) => {
      let buf = Buffer.alloc(0);
      sock.on("error", () => {});
      sock.on("data", (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
        const query = dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        queries.push(`tcp ${query.questions?.[0]?.type} ${query.questions?.[0]?.name}`);
        const out = reply(zone, query, true);
        const len = Buffer.alloc(2);
        len.writeUInt16BE(out.length);
        sock.end(Buffer.concat([len, out]));
      });
    });
    const ok = await new Promise<boolean>((res) => {
      tcp.once("error", () => res(false));
      tcp.listen(port, "127.0.0.1", () => res(true));
    });
    if (!ok) {
      udp.close();
      continue;
    }
    udp.on("message", (buf, rinfo) => {
      const query = dnsPacket.decode(buf);
      const q = query.questions?.[0];
      queries.push(`udp ${q?.type} ${q?.name}`);
      const entry = zone.get((q?.name ?? "").toLowerCase());
      if (entry?.behave === "drop") return;
      if (entry?.behave === "spoof") {
        const evil: NameEntry = { records: [{ type: "A", data: "10.6.6.6" }, { type: "MX", data: { preference: 0, exchange: "evil.invalid" } }] };
        const fake = new Map([[(q?.name ?? "").toLowerCase(), evil], ["spoofed.invalid", evil]]);
        udp.send(reply(fake, query, false, 1), rinfo.port, rinfo.address); // wrong id
        const other = { ...query, questions: [{ type: q?.type ?? "A", name: "spoofed.invalid" }] };
        udp.send(reply(fake, other as dnsPacket.DecodedPacket, false), rinfo.port, rinfo.address); // wrong question
        setTimeout(() => udp.send(reply(zone, query, false), rinfo.port, rinfo.address), 30);
        return;
      }
      udp.send(reply(zone, query, false), rinfo.port, rinfo.address);
    });
    return {
      port,
      queries,
      close: () => new Promise<void>((res) => { udp.close(); tcp.close(() => res()); }),
    };
  }
  throw new Error("could not bind a DNS test server");
}
