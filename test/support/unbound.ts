// Debian's unbound as a validating resolver for tests, serving zones the
// test writes and (with ldns-keygen and ldns-signzone from ldnsutils) signs
// itself: each zone is an auth-zone "for upstream", so its answers go
// through unbound's validator, and a signed zone's DS is the trust anchor.
// A private config under the test's temporary directory, 127.0.0.1 only,
// no upstream at all (no root hints: names outside the zones fail).
//
// Port: unbound cannot report the port it bound, and a port chosen by
// binding and closing could be taken before unbound binds it. So a random
// high port is tried, and when unbound exits saying it is in use another
// one, at most 10 times (so-reuseport is off, or a second unbound would
// share the port instead of failing). Stopped by its PID.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startOnFreePort } from "./port-daemon.ts";

export const UNBOUND = "/usr/sbin/unbound";
const run = (cmd: string, args: string[], cwd?: string) => spawnSync(cmd, args, { cwd, timeout: 30_000, encoding: "utf8" });
export const NO_UNBOUND = run(UNBOUND, ["-V"]).status === 0 ? false : "unbound is not installed (scripts/apt-packages.txt)";
export const NO_LDNS = run("ldns-signzone", ["-v"]).status === 0 ? false : "ldns-signzone is not installed (ldnsutils, scripts/apt-packages.txt)";

export interface Zone {
  /** The zone's name, without the final dot ("x.test"). */
  readonly name: string;
  /** Records in zone-file syntax, names relative to the zone ("mx IN A 127.0.0.1"); SOA and NS are added. */
  readonly records: readonly string[];
  /** Sign it (its DS becomes a trust anchor); unsigned zones are declared insecure. */
  readonly signed: boolean;
  /** Change the signed zone's text after signing (a record whose signature no longer holds: bogus). */
  readonly tamper?: (signed: string) => string;
}

export interface Unbound {
  readonly port: number;
  stop(): Promise<void>;
}

/** Writes the zone file (signed when asked) into `dir`; returns the file to serve and the DS file, if any. */
function writeZone(dir: string, z: Zone): { file: string; ds: string | null } {
  const text = [
    `$ORIGIN ${z.name}.`, "$TTL 300",
    `@ IN SOA ns.${z.name}. root.${z.name}. 1 3600 600 86400 300`, `@ IN NS ns.${z.name}.`, "ns IN A 127.0.0.1",
    ...z.records, "",
  ].join("\n");
  const file = join(dir, `${z.name}.zone`);
  writeFileSync(file, text);
  if (!z.signed) return { file, ds: null };
  const ksk = run("ldns-keygen", ["-a", "ECDSAP256SHA256", "-k", z.name], dir);
  const zsk = run("ldns-keygen", ["-a", "ECDSAP256SHA256", z.name], dir);
  if (ksk.status !== 0 || zsk.status !== 0) throw new Error(`ldns-keygen failed: ${ksk.stderr}${zsk.stderr}`);
  const [k, s] = [ksk.stdout.trim(), zsk.stdout.trim()];
  const signed = run("ldns-signzone", [file, k, s], dir);
  if (signed.status !== 0) throw new Error(`ldns-signzone failed: ${signed.stderr}`);
  readFileSync(join(dir, `${k}.ds`)); // the DS must be there
  if (z.tamper) writeFileSync(`${file}.signed`, z.tamper(readFileSync(`${file}.signed`, "utf8")));
  return { file: `${file}.signed`, ds: join(dir, `${k}.ds`) };
}

function config(dir: string, port: number, zones: readonly Zone[], files: readonly { file: string; ds: string | null }[]): string {
  const lines = [
    // no SO_REUSEPORT: a port another unbound holds must fail to bind (and be tried again), not be shared
    "server:", "  interface: 127.0.0.1", `  port: ${port}`, "  so-reuseport: no", "  do-ip6: no", "  do-daemonize: no", '  username: ""', '  chroot: ""',
    `  directory: "${dir}"`, '  pidfile: ""', "  use-syslog: no", '  logfile: ""', "  verbosity: 1", "  access-control: 127.0.0.0/8 allow",
    '  module-config: "validator iterator"', '  root-hints: ""', "  do-not-query-localhost: no", "  qname-minimisation: no",
    // unbound answers the special-use name test. itself unless told not to
    '  local-zone: "test." nodefault',
  ];
  zones.forEach((z, i) => {
    const ds = files[i]!.ds;
    lines.push(ds ? `  trust-anchor-file: "${ds}"` : `  domain-insecure: "${z.name}"`);
  });
  zones.forEach((z, i) => lines.push("auth-zone:", `  name: "${z.name}"`, `  zonefile: "${files[i]!.file}"`, "  for-upstream: yes", "  for-downstream: no", "  fallback-enabled: no"));
  return `${lines.join("\n")}\n`;
}

export function startUnbound(dir: string, zones: readonly Zone[]): Promise<Unbound> {
  const files = zones.map((z) => writeZone(dir, z));
  return startOnFreePort({
    name: "unbound",
    command: (port) => {
      const conf = join(dir, "unbound.conf");
      writeFileSync(conf, config(dir, port, zones, files));
      return { cmd: UNBOUND, args: ["-d", "-c", conf] };
    },
    started: /start of service/,
    taken: /already in use|can't bind/i,
    timeoutMs: 20_000,
  });
}
