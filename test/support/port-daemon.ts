// A daemon that cannot report the port it bound (dnsmasq, unbound): started
// on a random high port, and started again on another when that one is taken,
// ten tries at most. It says on standard error when it has started; it runs
// in the foreground and is stopped by its PID.
import { spawn, type ChildProcess } from "node:child_process";

export interface PortDaemon {
  readonly port: number;
  stop(): Promise<void>;
}

export interface DaemonSpec {
  readonly name: string; // for errors
  /** Writes its config for `port` and gives the command line. */
  readonly command: (port: number) => { cmd: string; args: string[] };
  readonly started: RegExp; // on stderr once it serves
  readonly taken: RegExp; // on stderr when the port was in use
  readonly timeoutMs: number;
}

function waitStarted(child: ChildProcess, spec: DaemonSpec): Promise<"started" | "taken" | string> {
  return new Promise((resolve) => {
    let err = "";
    const timer = setTimeout(() => resolve(`${spec.name} did not start: ${err}`), spec.timeoutMs);
    child.stderr!.on("data", (b: Buffer) => {
      err += b.toString();
      if (spec.started.test(err)) {
        clearTimeout(timer);
        resolve("started");
      }
    });
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(spec.taken.test(err) ? "taken" : `${spec.name} exited: ${err}`);
    });
  });
}

export async function startOnFreePort(spec: DaemonSpec): Promise<PortDaemon> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    const { cmd, args } = spec.command(port);
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    const got = await waitStarted(child, spec);
    if (got === "taken") continue;
    if (got !== "started") {
      child.kill("SIGKILL");
      throw new Error(got);
    }
    return {
      port,
      stop: () => new Promise<void>((res) => {
        if (child.exitCode !== null || child.signalCode !== null) return res();
        child.once("exit", () => res());
        child.kill("SIGTERM");
      }),
    };
  }
  throw new Error(`${spec.name} found no free port`);
}
