import { defineCommand } from "./_command.ts";
import { startSend } from "../core/prog/send.ts";
import { flushRunningSend } from "../core/prog/qctl.ts";
import { qmHome } from "../core/io/base/sys.ts";
import { exitWith } from "./_exit.ts";
import { stopWithParent } from "./_parent.ts";

export default defineCommand({
  args: {
    once: { type: "boolean", description: "a queue run: deliver what is due, wait for it, exit" },
    force: { type: "boolean", description: "with --once: attempt every delivery, due or not" },
  },
  async run({ args }) {
    if (args.once || args.force) {
      // a queue run while a qm send runs (sendmail -q from cron): ask it to flush instead (qm-qctl(8))
      const asked = await flushRunningSend(qmHome());
      if (asked.kind === "ok" && asked.value) process.stderr.write("qm send: a qm send is running: asked it to flush the queue\n");
      if (asked.kind !== "ok" || asked.value) exitWith(asked, "qm send");
    }
    // Test hook (qm-send(8)): $QM_CLOCK_OFFSET seconds are added to the clock.
    const offset = Number(process.env.QM_CLOCK_OFFSET ?? 0) * 1000 || 0;
    const h = startSend({
      home: qmHome(),
      once: Boolean(args.once || args.force),
      force: Boolean(args.force),
      out: (l) => void process.stdout.write(l), // at once, every line: a SIGKILL must not lose the log of a delivery started
      clock: () => Date.now() + offset,
    });
    process.on("SIGTERM", () => h.term());
    process.on("SIGHUP", () => h.hup());
    process.on("SIGALRM", () => h.alrm());
    process.on("SIGPIPE", () => {});
    stopWithParent();
    const r = await h.done;
    if (r.kind === "ok" && args.once) {
      const s = r.value;
      process.stderr.write(`qm send: ${s.deliveries} deliveries (${s.success} success, ${s.failure} failure, ${s.deferral} deferral), ${s.done} messages done, ${s.left} left in the queue\n`);
    }
    await new Promise<void>((res) => process.stdout.write("", () => res()));
    exitWith(r, "qm send");
  },
});
