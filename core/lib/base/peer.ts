/**
 * Who is on the other end of a server connection, as tcpserver describes it
 * (TCPREMOTEIP, TCPREMOTEPORT, TCPREMOTEHOST, TCPREMOTEINFO, TCPLOCALIP,
 * TCPLOCALPORT, TCPLOCALHOST) plus the per-client settings an access rule or
 * the super-server may give (RELAYCLIENT, DATABYTES, RCPTCHECK). One builder
 * for qm smtpd and qm qmqpd, under inetd and behind their own listener.
 */
export interface Peer {
  readonly remoteIP: string;
  readonly remotePort: number; // 0: not known
  readonly remoteHost: string;
  readonly remoteInfo: string | null;
  readonly localIP: string;
  readonly localPort: number;
  readonly localHost: string;
  readonly relay: string | null; // RELAYCLIENT
  readonly databytes: number | null; // DATABYTES
  readonly rcptCheck: boolean | null; // RCPTCHECK
}

/** The addresses of an accepted socket, as the listener saw them. */
export interface SocketEnds {
  readonly remoteIP: string;
  readonly remotePort: number;
  readonly localIP: string;
  readonly localPort: number;
}

/**
 * `vars` looks a variable up: the process environment under inetd/tcpserver,
 * the matching access rule's settings behind a listener. `sock`, when given,
 * wins over the TCP* addresses in `vars`.
 */
export function makePeer(vars: (name: string) => string | undefined, sock?: SocketEnds): Peer {
  const v = (name: string): string | undefined => {
    const s = vars(name);
    return s === "" ? undefined : s;
  };
  const localIP = sock?.localIP ?? v("TCPLOCALIP") ?? "unknown";
  const relay = vars("RELAYCLIENT");
  const check = vars("RCPTCHECK");
  return {
    remoteIP: sock?.remoteIP ?? v("TCPREMOTEIP") ?? "unknown",
    remotePort: sock?.remotePort ?? portOf(v("TCPREMOTEPORT")),
    remoteHost: v("TCPREMOTEHOST") ?? "unknown",
    remoteInfo: vars("TCPREMOTEINFO") ?? null,
    localIP,
    localPort: sock?.localPort ?? portOf(v("TCPLOCALPORT")),
    localHost: v("TCPLOCALHOST") ?? localIP,
    relay: relay ?? null,
    databytes: numberOrNull(vars("DATABYTES")),
    rcptCheck: check === undefined ? null : check !== "0",
  };
}

function numberOrNull(s: string | undefined): number | null {
  return s !== undefined && /^\d{1,15}$/.test(s) ? Number(s) : null;
}

function portOf(s: string | undefined): number {
  const n = numberOrNull(s);
  return n !== null && n <= 65535 ? n : 0;
}
