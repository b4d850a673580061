// Network namespaces for multi-host tests: one namespace a host, each with
// its own address on a private /24, joined by veth links to a bridge that
// lives in a namespace of its own (the host's network is never touched).
// Names are unique per run (qmt-<pid>-...) and every namespace is deleted
// again, also when the test fails or the process exits early.
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from "node:child_process";

export interface Host {
  readonly name: string; // short: a-z0-9, at most 6 characters
  readonly ip: string; // in SUBNET
}
export const SUBNET = "10.77.0";

function ip(args: readonly string[]): { ok: boolean; err: string } {
  const r = spawnSync("ip", args, { encoding: "utf8", timeout: 10_000 });
  return { ok: r.status === 0, err: `${r.error ?? ""}${r.stderr ?? ""}`.trim() };
}

/** Why namespaces cannot be made here, or null when they can. */
export function whyNoNamespaces(): string | null {
  if (process.platform !== "linux") return "network namespaces need Linux";
  if (process.getuid?.() !== 0) return "network namespaces need root";
  const probe = `qmt-${process.pid}-probe`;
  const add = ip(["netns", "add", probe]);
  if (!add.ok) return `cannot create a network namespace (${add.err || "is iproute2 installed?"})`;
  const veth = ip(["-n", probe, "link", "add", "qa", "type", "veth", "peer", "name", "qb"]);
  ip(["netns", "del", probe]);
  return veth.ok ? null : `cannot create veth links (${veth.err})`;
}

export class Net {
  readonly prefix = `qmt-${process.pid}`;
  readonly #made: string[] = [];
  readonly #children = new Set<ChildProcess>();
  readonly #onExit = () => this.destroy();

  constructor(hosts: readonly Host[]) {
    process.on("exit", this.#onExit);
    try {
      const sw = this.ns("sw");
      this.#add(sw);
      this.#run(["-n", sw, "link", "add", "br0", "type", "bridge"]);
      this.#run(["-n", sw, "link", "set", "br0", "up"]);
      for (const h of hosts) {
        const ns = this.ns(h.name);
        this.#add(ns);
        this.#run(["-n", ns, "link", "set", "lo", "up"]);
        this.#run(["-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", `p-${h.name}`, "netns", sw]);
        this.#run(["-n", ns, "addr", "add", `${h.ip}/24`, "dev", "eth0"]);
        this.#run(["-n", ns, "link", "set", "eth0", "up"]);
        this.#run(["-n", sw, "link", "set", `p-${h.name}`, "master", "br0"]);
        this.#run(["-n", sw, "link", "set", `p-${h.name}`, "up"]);
      }
    } catch (err) {
      this.destroy();
      throw err;
    }
  }

  ns(host: string): string {
    return `${this.prefix}-${host}`;
  }

  #add(ns: string): void {
    this.#run(["netns", "add", ns]);
    this.#made.push(ns);
  }
  #run(args: readonly string[]): void {
    const r = ip(args);
    if (!r.ok) throw new Error(`ip ${args.join(" ")}: ${r.err}`);
  }

  /** Starts `cmd args` inside the host's namespace; killed by destroy() if still running. */
  spawn(host: string, cmd: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn("ip", ["netns", "exec", this.ns(host), cmd, ...args], { stdio: ["ignore", "pipe", "pipe"], ...opts });
    this.#children.add(child);
    child.on("exit", () => this.#children.delete(child));
    return child;
  }

  /** Kills what is still running and deletes every namespace made (links go with them). */
  destroy(): void {
    for (const c of this.#children) c.kill("SIGKILL");
    this.#children.clear();
    for (const ns of this.#made.splice(0).reverse()) {
      spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8", timeout: 60_000 }).stdout?.split("\n").filter(Boolean).forEach((pid) => {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {
          // already gone
        }
      });
      const del = ip(["netns", "del", ns]);
      if (!del.ok) process.stderr.write(`# warning: ip netns del ${ns}: ${del.err}\n`);
    }
    process.off("exit", this.#onExit);
  }
}
