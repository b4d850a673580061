import { defineCommand } from "./_command.ts";
import { qmqpdInetd, qmqpdListen, SESSION_MS } from "../core/prog/qmqpd.ts";
import { perm } from "../core/lib/base/result.ts";
import { qmHome } from "../core/io/base/sys.ts";
import { exitRaw, exitWith } from "./_exit.ts";

const log = (line: string): void => void process.stderr.write(`${line}\n`);

export default defineCommand({
  args: {
    listen: { type: "string", description: "IP:PORT or [IPv6]:PORT to listen on (repeatable)" },
    rules: { type: "string", description: "access rules file in control/ (default qmqprules; missing: loopback only)", default: "qmqprules" },
    user: { type: "string", description: "account to run as after binding, when started as root (default qmaild)", default: "qmaild" },
    max: { type: "string", description: "most concurrent sessions (default 40)", default: "40" },
  },
  async run({ args, rawArgs }) {
    process.on("SIGPIPE", () => {});
    const home = qmHome();
    const listen = rawArgs.flatMap((a, i) => (a === "--listen" ? [rawArgs[i + 1] ?? ""] : a.startsWith("--listen=") ? [a.slice(9)] : []));
    if (listen.length === 0) {
      setTimeout(() => exitRaw(111, "qm qmqpd: timeout"), SESSION_MS).unref();
      exitRaw(await qmqpdInetd(home, process.env, log));
    }
    const max = Number(args.max);
    if (!Number.isInteger(max) || max < 1) exitWith(perm("--max takes a positive number", "5.3.5"), "qm qmqpd");
    exitWith(await qmqpdListen(home, { addresses: listen, rulesFile: args.rules, maxSessions: max, maxPerIP: max, user: args.user }, log), "qm qmqpd");
  },
});
