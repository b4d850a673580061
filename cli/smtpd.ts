import { defineCommand } from "./_command.ts";
import { smtpdInetd, smtpdListen } from "../core/prog/smtpd.ts";
import { perm } from "../core/lib/base/result.ts";
import { qmHome } from "../core/io/base/sys.ts";
import { exitWith } from "./_exit.ts";
import { stopWithParent } from "./_parent.ts";

export default defineCommand({
  args: {
    listen: { type: "string", description: "IP:PORT or [IPv6]:PORT to listen on (repeatable)" },
    max: { type: "string", description: "most concurrent sessions (default 40)", default: "40" },
    "max-per-ip": { type: "string", description: "most concurrent sessions from one client IP (default 10)", default: "10" },
    user: { type: "string", description: "account to run as after binding, when started as root (default qmaild)", default: "qmaild" },
    rules: { type: "string", description: "access rules file in control/ (default smtprules)", default: "smtprules" },
  },
  async run({ args, rawArgs }) {
    process.on("SIGPIPE", () => {});
    const listen = rawArgs.flatMap((a, i) => (a === "--listen" ? [rawArgs[i + 1] ?? ""] : a.startsWith("--listen=") ? [a.slice(9)] : []));
    if (listen.length === 0) {
      await smtpdInetd(qmHome(), process.env);
      process.exit(0);
    }
    stopWithParent();
    const max = Number(args.max);
    const perIP = Number(args["max-per-ip"]);
    if (!Number.isInteger(max) || max < 1 || !Number.isInteger(perIP) || perIP < 1) exitWith(perm("--max and --max-per-ip take positive numbers", "5.3.5"), "qm smtpd");
    if (!/^[a-z_][a-z0-9_.-]*$/i.test(args.rules)) exitWith(perm("--rules names a file in control/", "5.3.5"), "qm smtpd");
    exitWith(await smtpdListen(qmHome(), { listen, maxSessions: max, maxPerIP: perIP, user: args.user, rulesFile: args.rules }), "qm smtpd");
  },
});
