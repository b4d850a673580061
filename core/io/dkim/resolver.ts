import type { DnsOptions } from "../remote/dns.ts";
import { lookup } from "../remote/dns.ts";

// qm's own resolver (core/io/remote/dns.ts, control/resolvers) in the shape
// mailauth's `resolver` option takes, the shape of node:dns's resolve():
// TXT answers as arrays of character-strings; failures as errors with
// node:dns's codes (ENOTFOUND, ENODATA: the record is not there; ESERVFAIL:
// try again). Every DNS question mailauth asks goes through here.

export type MailauthResolver = (name: string, type: string) => Promise<string[][]>;

function dnsError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

export function mailauthResolver(dns: DnsOptions): MailauthResolver {
  return async (name, type) => {
    if (type !== "TXT") throw dnsError("ENOTIMP", `qm answers only TXT questions for mailauth, not ${type}`);
    const a = await lookup<string[]>(dns, name, "TXT");
    if (a.kind === "nxdomain") throw dnsError("ENOTFOUND", `${name}: no such name`);
    if (a.kind === "temp") throw dnsError("ESERVFAIL", `${name}: ${a.reason}`);
    if (a.records.length === 0) throw dnsError("ENODATA", `${name}: no TXT record`);
    return a.records.map((r) => [...r]);
  };
}
