import { defineCommand } from "citty";
import { qmqpdInetd, qmqpdListen, SESSION_MS } from "../core/prog/qmqpd.ts";
import { qmHome } from "../core/io/sys.ts";
import { exitRaw, exitWith } from "./_exit.ts";

const log = (line: string): void => void process.stderr.write(`${line}\n`);

export default defineCommand({
  meta: { name: "qmqpd", description: "Receive mail over QMQP from trusted null clients (qmail-qmqpd)" },
  args: {
    listen: { type: "string", description: "listen on ADDR:PORT[,ADDR:PORT...] instead of serving stdin/stdout" },
    rules: { type: "string", description: "access rules file for --listen (default control/qmqpd-rules)" },
    max: { type: "string", description: "--listen: at most this many sessions at once (default 40)" },
  },
  async run({ args }) {
    process.on("SIGPIPE", () => {});
    const home = qmHome();
    if (!args.listen) {
      setTimeout(() => exitRaw(111, "qm qmqpd: timeout"), SESSION_MS).unref();
      exitRaw(await qmqpdInetd(home, process.env, log));
    }
    const max = Number(args.max ?? 40);
    const r = await qmqpdListen(home, { addresses: args.listen.split(","), rulesFile: args.rules ?? null, maxSessions: max > 0 ? max : 40, maxPerIP: max > 0 ? max : 40 }, log);
    if (r.kind !== "ok") exitWith(r, "qm qmqpd");
    log(`qmqpd: listening on ${r.value.addresses.map((a) => `${a.address}:${a.port}`).join(" ")}`);
    const stop = () => void r.value.close().then(() => process.exit(0));
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  },
});
