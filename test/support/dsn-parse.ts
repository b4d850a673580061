// Reads a delivery status notification with Python's `email` package (the
// reader the issue names), so a report is checked by a parser that is not qm's.
import { spawnSync } from "node:child_process";

const SCRIPT = String.raw`
import email, json, sys
from email import policy
m = email.message_from_bytes(sys.stdin.buffer.read(), policy=policy.compat32)
out = {"type": m.get_content_type(), "report_type": m.get_param("report-type"), "headers": dict(m.items()), "defects": [type(d).__name__ for d in m.defects], "parts": []}
if m.is_multipart():
    for p in m.get_payload():
        d = {"type": p.get_content_type(), "defects": [type(x).__name__ for x in p.defects]}
        if d["type"] == "message/delivery-status":
            d["blocks"] = [dict(b.items()) for b in p.get_payload()]
        elif d["type"] == "message/rfc822":
            inner = p.get_payload()[0]
            d["headers"] = dict(inner.items())
            d["body"] = inner.get_payload()
        else:
            d["text"] = p.get_payload()
        out["parts"].append(d)
else:
    out["text"] = m.get_payload()
print(json.dumps(out))
`;

export interface ParsedPart {
  readonly type: string;
  readonly defects: string[];
  readonly blocks?: Record<string, string>[];
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly text?: string;
}
export interface Parsed {
  readonly type: string;
  readonly report_type: string | null;
  readonly headers: Record<string, string>;
  readonly defects: string[];
  readonly parts: ParsedPart[];
  readonly text?: string;
}

/** The message as Python's email package sees it; throws when python3 fails. */
export function parseWithPython(message: string | Buffer): Parsed {
  const r = spawnSync("python3", ["-c", SCRIPT], { input: typeof message === "string" ? Buffer.from(message, "latin1") : message, timeout: 20_000 });
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr?.toString()}`);
  return JSON.parse(r.stdout.toString()) as Parsed;
}
