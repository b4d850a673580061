// Writes a qm log of about N lines on stdout for bench/stats.sh: qm start's
// ISO stamps, messages injected and by SMTP (with STARTTLS, AUTH, rejects),
// local and remote deliveries with successes, deferrals and failures,
// status lines between, about 100 messages a second. The number of messages
// written goes to stderr.
//   node --import tsx bench/stats-log.ts [N]   (default 1000000)
import { writeSync } from "node:fs";

const N = Number(process.argv[2] ?? 1_000_000);
const T0 = Date.UTC(2026, 11, 1);
let lines = 0;
let buf = "";
let t = T0;
const out = (text: string) => {
  buf += `${new Date(t).toISOString()} ${text}\n`;
  lines++;
  if (buf.length > 1 << 20) { writeSync(1, buf); buf = ""; }
};
let d = 0;
let messages = 0;
for (let m = 1; lines < N; m++) {
  messages++;
  t += 10;
  const id = 1_000_000 + (m % 50_000);
  const remote = m % 3 === 0;
  const rcpt = remote ? `user${m % 97}@dest${m % 41}.example` : `u${m % 13}@example.test`;
  if (m % 4 === 0) {
    const sid = `${500 + (m % 7)}.${m}`;
    out(`smtpd: ${sid} connect 192.0.2.${m % 200} port ${40000 + (m % 20000)} to 198.51.100.1 port 25`);
    if (m % 8 === 0) out(`smtpd: ${sid} starttls 192.0.2.${m % 200} TLSv1.3 TLS_AES_256_GCM_SHA384`);
    if (m % 16 === 0) out(`smtpd: ${sid} auth ok 192.0.2.${m % 200} user joe${m % 5}`);
    if (m % 12 === 0) out(`smtpd: ${sid} refused 192.0.2.${m % 200} RCPT <v@elsewhere.test> from <a@client.example>: 553 5.7.1 sorry, that domain isn't in my list of allowed rcpthosts`);
    out(`smtpd: ${sid} accepted 192.0.2.${m % 200} msg ${id} from <a@client${m % 11}.example> rcpts 1`);
  }
  out(`new msg ${id}`);
  out(`info msg ${id}: bytes ${2000 + (m % 5000)} from <s${m % 17}@example.test> qp ${10000 + m} uid ${1000 + (m % 9)}`);
  const tries = remote && m % 10 === 0 ? 2 : 1;
  for (let k = 0; k < tries; k++) {
    d++;
    out(`starting delivery ${d}: msg ${id} to ${remote ? "remote" : "local"} ${rcpt}`);
    out(`status: local ${remote ? 0 : 1}/10 remote ${remote ? 1 : 0}/20`);
    t += 5 + (m % 200);
    const last = k === tries - 1;
    out(!last ? `delivery ${d}: deferral: Connected_to_203.0.113.${m % 50}_but_greeting_failed./Remote_host_said:_421_busy/`
      : m % 29 === 0 ? `delivery ${d}: failure: Sorry,_no_mailbox_here_by_that_name._(#5.1.1)/`
      : `delivery ${d}: success: ${remote ? "203.0.113.7_accepted_message./Remote_host_said:_250_ok/" : "did_1+0+0/"}`);
    out(`status: local 0/10 remote 0/20`);
  }
  out(`end msg ${id}`);
  out(`status: local 0/10 remote 0/20`);
}
writeSync(1, buf);
writeSync(2, `${messages}\n`); // how many messages the log holds, for bench/stats.sh to compare
