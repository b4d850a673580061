import { defineCommand } from "./_command.ts";
import { smtpdInetd, smtpdListen } from "../core/prog/smtpd.ts";
import { isRulesFile, sessionCount, type SmtpMode } from "../core/lib/smtpd/listen.ts";
import { perm } from "../core/lib/base/result.ts";
import { qmHome } from "../core/io/base/sys.ts";
import { exitWith } from "./_exit.ts";
import { stopWithParent } from "./_parent.ts";

export default defineCommand({
  args: {
    listen: { type: "string", description: "IP:PORT or [IPv6]:PORT to listen on (repeatable)" },
    submission: { type: "boolean", description: "submission policy (RFC 6409): STARTTLS, then AUTH, before MAIL; for port 587" },
    "tls-wrapper": { type: "boolean", description: "TLS from the first byte (RFC 8314), then the submission policy; for port 465" },
    max: { type: "string", description: "most concurrent sessions (default 40)", default: "40" },
    "max-per-ip": { type: "string", description: "most concurrent sessions from one client IP (default 10)", default: "10" },
    user: { type: "string", description: "account to run as after binding, when started as root (default qmaild)", default: "qmaild" },
    rules: { type: "string", description: "access rules file in control/ (default smtprules)", default: "smtprules" },
  },
  async run({ args, rawArgs }) {
    process.on("SIGPIPE", () => {});
    const mode: SmtpMode = args["tls-wrapper"] ? "smtps" : args.submission ? "submission" : "smtp";
    const listen = rawArgs.flatMap((a, i) => (a === "--listen" ? [rawArgs[i + 1] ?? ""] : a.startsWith("--listen=") ? [a.slice(9)] : []));
    if (listen.length === 0) exitWith(await smtpdInetd(qmHome(), process.env, mode), "qm smtpd");
    stopWithParent();
    const max = sessionCount(args.max);
    const perIP = sessionCount(args["max-per-ip"]);
    if (max === null || perIP === null) exitWith(perm("--max and --max-per-ip take numbers from 1 to 100000", "5.3.5"), "qm smtpd");
    if (!isRulesFile(args.rules)) exitWith(perm("--rules names a file in control/", "5.3.5"), "qm smtpd");
    exitWith(await smtpdListen(qmHome(), { listen, mode, maxSessions: max, maxPerIP: perIP, user: args.user, rulesFile: args.rules }), "qm smtpd");
  },
});
