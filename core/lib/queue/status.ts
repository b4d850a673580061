/**
 * The delivery status record, queue/defer/<N>/<id> (qm's own, after
 * Postfix's defer logs): for each recipient left deferred, how many attempts
 * were made, when the last one was, when the next is due and what the last
 * one said. Advisory: the queue manager never reads it to decide anything,
 * so a damaged record costs only the listing. Text, one line a recipient:
 *
 *   qm-status 1 <birth>
 *   <channel> <attempts> <last try> <next try> <address> <last error>
 *
 * Times are Unix seconds; birth is the info file's mtime, so a record left
 * behind by an earlier message with the same inode is recognised and
 * ignored. Address and error are %XX-escaped (every byte outside 33..126,
 * and "%"), so no field holds a space or a line break.
 */
export type DeliveryChannel = "local" | "remote";

export interface RecipientStatus {
  readonly channel: DeliveryChannel;
  readonly addr: string;
  readonly attempts: number;
  readonly lastTry: number;
  readonly nextTry: number;
  readonly error: string;
}
export interface StatusRecord {
  readonly birth: number;
  readonly recipients: readonly RecipientStatus[];
}
/** One deferred delivery, as the queue manager reports it. */
export interface Attempt {
  readonly channel: DeliveryChannel;
  readonly addr: string;
  readonly at: number;
  readonly next: number;
  readonly error: string;
}

const MAGIC = "qm-status 1";
/** Error text kept a recipient (bytes): a remote reply can be 200 lines. */
export const MAX_ERROR = 1000;
/** Longest line read back (escaped address 3 × 1003 + escaped error 3 × 1000 + numbers). */
export const MAX_LINE = 8192;
/** Recipients read back from one record. */
export const MAX_ENTRIES = 100_000;
const NUM = /^\d{1,15}$/;

function escape(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) & 0xff;
    out += c < 33 || c > 126 || c === 37 ? `%${c.toString(16).padStart(2, "0")}` : s[i];
  }
  return out;
}
function unescape(s: string): string | null {
  if (!/^(?:[\x21-\x24\x26-\x7e]|%[0-9a-fA-F]{2})*$/.test(s)) return null;
  return s.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

export function formatStatus(r: StatusRecord): string {
  let out = `${MAGIC} ${r.birth}\n`;
  for (const x of r.recipients) {
    out += `${x.channel} ${x.attempts} ${x.lastTry} ${x.nextTry} ${escape(x.addr) || "%00"} ${escape(x.error)}\n`;
  }
  return out;
}

/** The record, or null when its first line is not ours; lines that do not parse are skipped. */
export function parseStatus(text: string): StatusRecord | null {
  const nl = text.indexOf("\n");
  const head = (nl < 0 ? text : text.slice(0, nl)).split(" ");
  if (head.length !== 3 || `${head[0]} ${head[1]}` !== MAGIC || !NUM.test(head[2]!)) return null;
  const recipients: RecipientStatus[] = [];
  let at = nl < 0 ? text.length : nl + 1;
  while (at < text.length && recipients.length < MAX_ENTRIES) {
    let end = text.indexOf("\n", at);
    if (end < 0) break; // a cut last line: not written by us
    const line = end - at <= MAX_LINE ? text.slice(at, end) : "";
    at = end + 1;
    const r = parseLine(line);
    if (r) recipients.push(r);
  }
  return { birth: Number(head[2]), recipients };
}

function parseLine(line: string): RecipientStatus | null {
  const f = line.split(" ");
  if (f.length < 5 || f.length > 6) return null;
  const [channel, attempts, lastTry, nextTry, addrE, errorE = ""] = f as [string, string, string, string, string, string?];
  if (channel !== "local" && channel !== "remote") return null;
  if (!NUM.test(attempts) || !NUM.test(lastTry) || !NUM.test(nextTry)) return null;
  const addr = addrE === "%00" ? "" : unescape(addrE);
  const error = unescape(errorE);
  if (addr === null || error === null) return null;
  return { channel, addr, attempts: Number(attempts), lastTry: Number(lastTry), nextTry: Number(nextTry), error: error.slice(0, MAX_ERROR) };
}

/**
 * The record after a pass's deferrals: one more attempt for each recipient
 * named, its error and times replaced. A record of another birth (an earlier
 * message with the same inode) is started afresh.
 */
export function recordAttempts(old: StatusRecord | null, birth: number, attempts: readonly Attempt[]): StatusRecord {
  const byKey = new Map<string, RecipientStatus>();
  if (old && old.birth === birth) for (const r of old.recipients) byKey.set(key(r.channel, r.addr), r);
  for (const a of attempts) {
    const k = key(a.channel, a.addr);
    const n = (byKey.get(k)?.attempts ?? 0) + 1;
    byKey.set(k, { channel: a.channel, addr: a.addr, attempts: n, lastTry: a.at, nextTry: a.next, error: a.error.slice(0, MAX_ERROR) });
  }
  return { birth, recipients: [...byKey.values()] };
}

/** The status of one recipient, when the record is of this message (its birth). */
export function findStatus(r: StatusRecord | null, birth: number, channel: DeliveryChannel, addr: string): RecipientStatus | null {
  if (!r || r.birth !== birth) return null;
  return r.recipients.find((x) => x.channel === channel && x.addr === addr) ?? null;
}

function key(channel: DeliveryChannel, addr: string): string {
  return `${channel}\0${addr}`;
}
