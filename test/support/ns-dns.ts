// A DNS server for a network namespace: `node --import tsx ns-dns.ts IP ZONE-JSON`
// answers A and MX questions from the zone on IP:53 (UDP), NXDOMAIN otherwise.
// ZONE-JSON: { "name": [{ "type": "A", "data": "10.77.0.10" }, { "type": "MX", "data": { "preference": 10, "exchange": "mx1.hub.test" } }] }
import { createSocket } from "node:dgram";
import dnsPacket from "dns-packet";

const [ip = "", zoneText = "{}"] = process.argv.slice(2);
const zone = new Map<string, { type: string; data: unknown }[]>(Object.entries(JSON.parse(zoneText) as Record<string, { type: string; data: unknown }[]>));
const sock = createSocket("udp4");
sock.on("message", (buf, rinfo) => {
  let query: dnsPacket.DecodedPacket;
  try {
    query = dnsPacket.decode(buf);
  } catch {
    return;
  }
  const q = query.questions?.[0];
  if (!q) return;
  const recs = zone.get(q.name.toLowerCase());
  const answers = (recs ?? []).filter((r) => r.type === q.type).map((r) => ({ type: r.type, name: q.name, ttl: 5, class: "IN", data: r.data }) as dnsPacket.Answer);
  const flags = dnsPacket.AUTHORITATIVE_ANSWER | (recs ? 0 : 3);
  sock.send(dnsPacket.encode({ type: "response", id: query.id ?? 0, flags, questions: [q], answers }), rinfo.port, rinfo.address);
});
sock.bind(53, ip, () => process.stderr.write(`dns: listening on ${ip}:53\n`));
process.on("SIGTERM", () => process.exit(0));
