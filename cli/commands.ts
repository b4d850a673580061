// The subcommand table, as data: cli/qm.ts runs from it, `qm --help` lists
// it, and the help, man-page and start-up tests read it. One row a command,
// in alphabetical order: its name, its one-line summary (the description in
// its usage), and how to load it. Each loads only what it needs (no MIME
// parser on the inject path), on demand; but qm inject is loaded with the
// entry: one process per message, and every module chunk loaded separately
// costs a start ~0.15 ms on Bun (bench/startup.sh); its own modules are small.
import type { Command } from "./_command.ts";
import inject from "./inject.ts";

export interface Subcommand {
  readonly name: string;
  readonly summary: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each command has its own args type
  readonly load: () => Promise<Command<any>>;
}

export const COMMANDS: readonly Subcommand[] = [
  { name: "bounce-read", summary: "Read a bounce on stdin (a .qmail program for a VERP return address): one line per failed recipient", load: () => import("./bounce-read.ts").then((m) => m.default) },
  { name: "dkim", summary: "DKIM keys: keygen DOMAIN SELECTOR, show DOMAIN, check DOMAIN (qm-dkim(8))", load: () => import("./dkim.ts").then((m) => m.default) },
  { name: "fastforward", summary: "Deliver through the aliases cdb, from the alias user's .qmail-default: [-p] [-d] [FILE.cdb]", load: () => import("./fastforward.ts").then((m) => m.default) },
  { name: "forward", summary: "Forward the message on stdin to the given addresses with sender $NEWSENDER (qmail's forward)", load: () => import("./forward.ts").then((m) => m.default) },
  { name: "init", summary: "Create the qm home ($QMHOME, default /var/qm) with qmail's defaults; never overwrites a file", load: () => import("./init.ts").then((m) => m.default) },
  { name: "inject", summary: "Complete a message's header and queue it (qmail-inject): [-nNaAhH] [-f sender] [recip ...]", load: async () => inject },
  { name: "local", summary: "Deliver one message to one local recipient (qmail-local)", load: () => import("./local.ts").then((m) => m.default) },
  { name: "local-worker", summary: "Serve local deliveries for one uid on stdin/stdout (started by qm lspawn)", load: () => import("./local-worker.ts").then((m) => m.default) },
  { name: "lspawn", summary: "Local delivery spawner for qm send: slot commands on stdin, K/Z/D reports on stdout", load: () => import("./lspawn.ts").then((m) => m.default) },
  { name: "maildirmake", summary: "Create a Maildir: DIR with tmp/, new/, cur/ (mode 0700)", load: () => import("./maildirmake.ts").then((m) => m.default) },
  { name: "newaliases", summary: "Compile the aliases file (FILE, control/aliases, or /etc/aliases) into FILE.cdb", load: () => import("./newaliases.ts").then((m) => m.default) },
  { name: "newmrh", summary: "Build control/morercpthosts.cdb from control/morercpthosts (qmail-newmrh)", load: () => import("./newmrh.ts").then((m) => m.default) },
  { name: "newu", summary: "Compile users/assign into users/cdb (qmail-newu)", load: () => import("./newu.ts").then((m) => m.default) },
  { name: "qctl", summary: "Queue control: list, show, delete, hold, release, flush, requeue, bounce (man qm-qctl)", load: () => import("./qctl.ts").then((m) => m.default) },
  { name: "qmqpd", summary: "QMQP server for trusted null clients: one session on stdin/stdout, or --listen IP:PORT (qmail-qmqpd)", load: () => import("./qmqpd.ts").then((m) => m.default) },
  { name: "qread", summary: "List the messages in the queue (qmail-qread)", load: () => import("./qread.ts").then((m) => m.default) },
  { name: "qshape", summary: "The queue by destination domain and age, as Postfix's qshape prints it: [-s] [-t MIN] [-b N] [-l] [CHANNEL...]", load: () => import("./qshape.ts").then((m) => m.default) },
  { name: "qstat", summary: "Count the messages in the queue (qmail-qstat)", load: () => import("./qstat.ts").then((m) => m.default) },
  { name: "queue", summary: "Queue one message: message on fd 0, envelope on fd 1 (qmail-queue)", load: () => import("./queue.ts").then((m) => m.default) },
  { name: "queued", summary: "Queue messages for listeners that run as another user, as the queue's owner (started by qm start)", load: () => import("./queued.ts").then((m) => m.default) },
  { name: "remote", summary: "Deliver one message by SMTP (qmail-remote): qm remote -- host sender recipient...", load: () => import("./remote.ts").then((m) => m.default) },
  { name: "rspawn", summary: "Remote delivery spawner for qm send: slot commands on stdin, K/Z/D reports on stdout", load: () => import("./rspawn.ts").then((m) => m.default) },
  { name: "send", summary: "The queue manager: deliver, retry and bounce queued mail (qmail-send)", load: () => import("./send.ts").then((m) => m.default) },
  { name: "sendmail", summary: "sendmail's command line: -t, -f, -F, -N, -R, -V, -i, -oi, -bs, -bp, -bi, -q (also run as sendmail, mailq, newaliases)", load: () => import("./sendmail.ts").then((m) => m.default) },
  { name: "smtpd", summary: "SMTP server: one session on stdin/stdout (tcpserver, inetd), or --listen IP:PORT", load: () => import("./smtpd.ts").then((m) => m.default) },
  { name: "start", summary: "Run the queue manager and the SMTP listener together, restarting a part that dies", load: () => import("./start.ts").then((m) => m.default) },
  { name: "stats", summary: "Report the mail flow from qm's logs: text, --json, or --html FILE with charts (qm-stats(8))", load: () => import("./stats.ts").then((m) => m.default) },
  { name: "tlsrpt", summary: "SMTP TLS reports (RFC 8460) for one UTC day, one per policy domain: [-d DIR] [--contact ADDR] [YYYY-MM-DD]", load: () => import("./tlsrpt.ts").then((m) => m.default) },
];

/** The row named `name`; not an inherited property ("constructor", "__proto__"), not a prefix. */
export function command(name: string | undefined): Subcommand | undefined {
  return COMMANDS.find((c) => c.name === name);
}
