import { defineCommand } from "./_command.ts";
import { claimHome, listeners, listenersNeedQueued, logSetup, logWriter, standardParts, start } from "../core/prog/start.ts";
import { SYSTEM_USERS } from "../core/prog/init.ts";
import { startMetrics } from "../core/prog/metrics.ts";
import { qmHome } from "../core/io/base/sys.ts";
import { exitWith } from "./_exit.ts";

export default defineCommand({
  args: {
    listen: { type: "string", description: "a listener for smtpd, 'IP:PORT [submission|smtps] [max=N] [max-per-ip=N] [rules=FILE]' (repeatable; default: control/listen, else 0.0.0.0:25)" },
    smtpd: { type: "boolean", default: true, description: "run the SMTP listener (--no-smtpd: queue manager only)" },
    "smtpd-user": { type: "string", default: SYSTEM_USERS.smtpd, description: "account smtpd runs as after binding, when started as root" },
    log: { type: "string", default: "iso", description: "time stamp at the start of each line: iso (UTC, ms), tai64n (multilog's), none" },
    syslog: { type: "string", description: "send the lines to syslog (facility mail) instead: --syslog, or --syslog=SOCKET (default /dev/log)" },
    metrics: { type: "string", description: "serve Prometheus metrics at http://IP:PORT/metrics (a bare PORT is on 127.0.0.1)" },
  },
  async run({ args, rawArgs }) {
    const flags = rawArgs.flatMap((a, i) => (a === "--listen" ? [rawArgs[i + 1] ?? ""] : a.startsWith("--listen=") ? [a.slice(9)] : []));
    const listen = await listeners(qmHome(), flags);
    if (listen.kind !== "ok") exitWith(listen, "qm start");
    const setup = logSetup(rawArgs);
    if (setup.kind !== "ok") exitWith(setup, "qm start");
    const claim = await claimHome(qmHome());
    if (claim.kind !== "ok") exitWith(claim, "qm start");
    const serving = args.smtpd ? listen.value : [];
    const parts = standardParts(serving, args["smtpd-user"], await listenersNeedQueued(qmHome(), args["smtpd-user"]));
    const m = args.metrics ? await startMetrics(qmHome(), args.metrics) : null;
    if (m && m.kind !== "ok") exitWith((claim.value.release(), m), "qm start");
    const w = logWriter(setup.value, (text) => void process.stdout.write(text, "latin1"));
    const out = (line: string) => (m?.value.line(line), w.out(line));
    for (const warning of claim.value.warnings) out(`${warning}\n`);
    if (m) out(`start: metrics on http://${m.value.address}/metrics\n`);
    const h = start({ parts, out });
    process.on("SIGTERM", () => h.term());
    process.on("SIGINT", () => h.term());
    process.on("SIGHUP", () => h.hup());
    process.on("SIGALRM", () => h.alrm());
    process.on("SIGPIPE", () => {});
    process.stdout.on("error", () => {}); // a log reader that went away must not stop the mail system
    const r = await h.done;
    await m?.value.close();
    claim.value.release();
    await w.close();
    await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
    exitWith(r, "qm start");
  },
});
