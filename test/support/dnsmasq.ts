// Debian's dnsmasq as a test DNS server: a private config under the test's
// temporary directory, 127.0.0.1 only, a random high port (tried again on
// another when taken), every name answered from the config alone (no
// upstream, no /etc/hosts; other names NXDOMAIN). Stopped by its PID.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startOnFreePort } from "./port-daemon.ts";

export const DNSMASQ = "/usr/sbin/dnsmasq";
export const NO_DNSMASQ = spawnSync(DNSMASQ, ["--version"], { timeout: 10_000 }).status === 0 ? false : "dnsmasq is not installed (scripts/apt-packages.txt)";

export interface Zone {
  readonly txt?: readonly (readonly [string, string])[];
  readonly a?: readonly (readonly [string, string])[];
  readonly mx?: readonly (readonly [string, string, number])[];
  readonly ptr?: readonly (readonly [string, string])[];
}

export interface Dnsmasq {
  readonly port: number;
  stop(): Promise<void>;
}

/** A TXT value as dnsmasq's config writes it: character-strings of at most 255 bytes, quoted. */
function txtStrings(value: string): string {
  const parts: string[] = [];
  for (let i = 0; i < value.length || parts.length === 0; i += 255) parts.push(value.slice(i, i + 255));
  return parts.map((p) => `"${p.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`).join(",");
}

function config(port: number, zone: Zone): string {
  return [
    `port=${port}`,
    "listen-address=127.0.0.1",
    "bind-interfaces",
    "no-resolv",
    "no-hosts",
    "no-poll",
    "local=/#/",
    "pid-file=",
    "log-facility=-",
    "edns-packet-max=1232",
    ...(zone.txt ?? []).map(([n, v]) => `txt-record=${n},${txtStrings(v)}`),
    ...(zone.a ?? []).map(([n, ip]) => `host-record=${n},${ip}`),
    ...(zone.mx ?? []).map(([n, host, pref]) => `mx-host=${n},${host},${pref}`),
    ...(zone.ptr ?? []).map(([n, host]) => `ptr-record=${n},${host}`),
    "",
  ].join("\n");
}

export function startDnsmasq(dir: string, zone: Zone): Promise<Dnsmasq> {
  return startOnFreePort({
    name: "dnsmasq",
    command: (port) => {
      const conf = join(dir, "dnsmasq.conf");
      writeFileSync(conf, config(port, zone));
      return { cmd: DNSMASQ, args: ["--keep-in-foreground", `--conf-file=${conf}`] };
    },
    started: /started, version/,
    taken: /in use/i,
    timeoutMs: 15_000,
  });
}
