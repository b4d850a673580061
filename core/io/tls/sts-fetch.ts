import { request } from "node:https";
import { isIP } from "node:net";
import { certificateNames, dnsNamesOf } from "../../lib/tls/names.ts";
import { STS_POLICY_MAX } from "../../lib/tls/sts.ts";

// GET https://mta-sts.DOMAIN/.well-known/mta-sts.txt (RFC 8461 §3.3) from
// an address qm's own resolver found: the certificate must chain to a
// trusted CA and name mta-sts.DOMAIN; no redirects; status 200 and
// text/plain only; at most STS_POLICY_MAX bytes and `timeoutMs` in all.

export interface FetchOptions {
  readonly ip: string;
  readonly port: number;
  readonly ca?: readonly string[];
  readonly timeoutMs: number;
}

export function fetchStsPolicy(domain: string, opts: FetchOptions): Promise<{ ok: true; text: string } | { ok: false; reason: string }> {
  const host = `mta-sts.${domain}`;
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: { ok: true; text: string } | { ok: false; reason: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(r);
    };
    const req = request({
      host: opts.ip, family: isIP(opts.ip), port: opts.port, path: "/.well-known/mta-sts.txt", method: "GET",
      servername: host, headers: { Host: host, "User-Agent": "qm" }, ca: opts.ca ? [...opts.ca] : undefined,
      rejectUnauthorized: true, minVersion: "TLSv1.2", agent: false,
      checkServerIdentity: (_name, cert) =>
        certificateNames(host, dnsNamesOf(cert.subjectaltname), typeof cert.subject?.CN === "string" ? cert.subject.CN : undefined)
          ? undefined
          : new Error(`the certificate does not name ${host}`),
    }, (res) => {
      if (res.statusCode !== 200) return done({ ok: false, reason: `HTTP status ${res.statusCode}` });
      const type = String(res.headers["content-type"] ?? "");
      if (!/^text\/plain(\s*;|$)/i.test(type)) return done({ ok: false, reason: "the policy is not text/plain" });
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > STS_POLICY_MAX) return done({ ok: false, reason: `the policy is longer than ${STS_POLICY_MAX} bytes` });
        chunks.push(c);
      });
      res.on("end", () => done({ ok: true, text: Buffer.concat(chunks).toString("latin1") }));
      res.on("error", (e) => done({ ok: false, reason: e.message }));
    });
    const timer = setTimeout(() => done({ ok: false, reason: "timed out" }), opts.timeoutMs);
    req.on("error", (e) => done({ ok: false, reason: e.message }));
    req.end();
  });
}
