// A scripted SMTP server for client tests, on 127.0.0.1:0. Each command line
// goes to `answer`, whose reply is sent as is ("hang" sends nothing, "close"
// drops the connection). DATA bodies are collected raw, CRLFs and dots as
// they came over the wire.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { TLSSocket } from "node:tls";
import { tempDir } from "./qm.ts";

export type Answer = string | "hang" | "close";
export interface PeerScript {
  readonly greeting?: Answer;
  /** Called for every command; the default accepts everything with ESMTP PIPELINING, 8BITMIME, SIZE. */
  readonly answer?: (line: string, session: Session) => Answer | undefined;
  /** Reply after the final dot (default "250 ok"). */
  readonly afterData?: (body: string, session: Session) => Answer;
  readonly tls?: { key: string; cert: string };
  /** With tls: TLS from the first byte (RFC 8314 implicit TLS, port 465), no STARTTLS. */
  readonly implicitTls?: boolean;
}
export interface Session {
  readonly commands: string[];
  tls: boolean;
  bodies: string[];
}
export interface Peer {
  readonly port: number;
  readonly sessions: Session[];
  close(): Promise<void>;
}

export const EHLO_DEFAULT = "250-peer.test hello\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 100000";

function defaultAnswer(line: string, s: Session, tls: boolean): Answer {
  const verb = line.split(" ")[0]!.toUpperCase();
  if (verb === "EHLO") return tls && !s.tls ? `${EHLO_DEFAULT.replace("250 SIZE", "250-SIZE")}\r\n250 STARTTLS` : EHLO_DEFAULT;
  if (verb === "STARTTLS") return "220 go ahead";
  if (verb === "DATA") return "354 go ahead";
  if (verb === "QUIT") return "221 bye";
  return "250 ok";
}

export async function startPeer(script: PeerScript = {}, host = "127.0.0.1", port = 0): Promise<Peer> {
  const sessions: Session[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((raw) => {
    const s: Session = { commands: [], tls: false, bodies: [] };
    sessions.push(s);
    sockets.add(raw);
    if (script.implicitTls && script.tls) {
      const t = new TLSSocket(raw, { isServer: true, key: script.tls.key, cert: script.tls.cert });
      raw.on("error", () => {});
      t.on("secure", () => { s.tls = true; serve(t, s, { ...script, tls: undefined }, sockets); });
      t.on("error", () => raw.destroy());
      return;
    }
    serve(raw, s, script, sockets);
  });
  await new Promise<void>((res, rej) => {
    server.once("error", rej);
    server.listen(port, host, res);
  });
  return {
    port: (server.address() as { port: number }).port,
    sessions,
    close: () => new Promise<void>((res) => {
      for (const k of sockets) k.destroy();
      server.close(() => res());
    }),
  };
}

function serve(sock: Socket, s: Session, script: PeerScript, sockets: Set<Socket>): void {
  let buf = "";
  let inData = false;
  let body = "";
  let out: Socket = sock;
  const send = (a: Answer | undefined) => {
    if (a === undefined || a === "hang") return;
    if (a === "close") return void sock.destroy();
    out.write(`${a}\r\n`);
  };
  sock.on("error", () => {});
  sock.on("close", () => sockets.delete(sock));
  const onData = (chunk: Buffer) => {
    buf += chunk.toString("latin1");
    for (let nl = buf.indexOf("\r\n"); nl >= 0; nl = buf.indexOf("\r\n")) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 2);
      if (inData) {
        if (line === ".") {
          inData = false;
          s.bodies.push(body);
          send(script.afterData ? script.afterData(body, s) : "250 ok queued");
        } else body += `${line}\r\n`;
        continue;
      }
      s.commands.push(line);
      const a = script.answer?.(line, s) ?? defaultAnswer(line, s, script.tls !== undefined);
      if (/^DATA$/i.test(line) && typeof a === "string" && a.startsWith("354")) [inData, body] = [true, ""];
      if (/^STARTTLS$/i.test(line) && script.tls && typeof a === "string" && a.startsWith("220")) {
        send(a);
        sock.removeListener("data", onData);
        const t = new TLSSocket(sock, { isServer: true, key: script.tls.key, cert: script.tls.cert });
        t.on("error", () => {});
        t.on("secure", () => { s.tls = true; });
        t.on("data", onData);
        out = t;
        buf = "";
        return;
      }
      send(a);
    }
  };
  sock.on("data", onData);
  send(script.greeting ?? "220 peer.test ESMTP");
}

/** A throwaway self-signed certificate made with openssl; null when openssl is missing. */
export function makeCert(): { key: string; cert: string } | null {
  const dir = tempDir("qm-cert-");
  try {
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "1",
      "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "ignore", timeout: 60_000 });
    return { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") };
  } catch {
    return null;
  }
}
