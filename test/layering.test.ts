// The import graph of core/ and cli/: the layer table of docs/style.md §2, the
// rooms' doors, who may open the send side of the queue, and who may build
// paths into the queue. (The import-graph form of "nothing else writes the
// queue".) Each rule is a function of (file, text), run over the real tree
// and over synthetic files that break it, so a rule that stops reporting
// fails too.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";

const ROOT = new URL("..", import.meta.url).pathname;
const PACKAGE_HOME: Record<string, string> = {
  citty: "cli/",
  consola: "core/io/base/log.ts",
  "consola/core": "core/io/base/log.ts",
  "dns-packet": "core/io/remote/dns.ts",
  ...Object.fromEntries(["tools.js", "dkim/message-parser.js", "dkim/body/index.js", "dkim/header/relaxed.js", "spf/index.js", "dkim/verify.js", "dmarc/index.js", "arc/index.js"].map((m) => [`mailauth/lib/${m}`, "core/io/dkim/"])),
  "uplot/dist/uPlot.iife.min.js": "core/io/stats/page.ts", // inlined as text into qm stats --html's page
  "uplot/dist/uPlot.min.css": "core/io/stats/page.ts",
  "prom-client": "core/io/stats/metrics.ts", // qm start --metrics' exposition
  unixcrypt: "core/io/smtpd/virtual-auth.ts", // SHA-crypt password hashes of control/virtualusers for AUTH
};

/**
 * A room (core/lib/<room>/, core/io/<room>/) is reached from another room only
 * through these files; base is open to all, and programs (core/prog/, one a
 * file) and cli/ put rooms together and may use any file but a room's private
 * `_name.ts`. Each door says who comes through it.
 */
const DOORS: Record<string, readonly string[]> = {
  local: [
    "core/lib/local/dot-qmail.ts", // smtpd's recipient check asks which .qmail files would take an address
    "core/io/local/users.ts", // ... and which local user an address belongs to (and AUTH, a virtual user's password hash)
    "core/lib/local/maildirsize.ts", // ... and whether that user's Maildir++ quota is already used up
    "core/io/local/quota.ts", // ... read from its maildirsize
    "core/lib/local/aliases.ts", // ... and which addresses the fastforward catch-all takes (its cdb keys)
    "core/io/local/aliases-file.ts", // ... from the aliases file control/aliases names
  ],
  qmqp: [
    "core/io/qmqp/client.ts", // the queue's submit() hands a message to QMQP servers (mini-qmail)
  ],
  remote: [
    "core/io/remote/message.ts", // the dkim room signs the message remote delivery sends
    "core/io/remote/dns.ts", // ... and asks qm's resolver (mailauth's DNS questions)
    "core/io/remote/resolv.ts", // ... of the servers control/resolvers names (smtpd's SPF, DKIM, DMARC checks)
    "core/lib/remote/dns-answer.ts", // smtpd's DNS lists read the answers (and their TTLs) themselves
  ],
  queue: [
    "core/lib/queue/envelope.ts", // the envelope every injector and QMQP carry
    "core/lib/queue/codes.ts", // qmail-queue's exit codes, which QMQP maps
    "core/lib/queue/layout.ts", // paths into the queue (remote's queue/lock/tcpto)
    "core/lib/queue/dsn.ts", // RFC 3461 parameters the queue keeps: smtpd takes them, send reports on them, remote passes them on
  ],
  tls: [
    "core/lib/tls/policy.ts", // remote delivery: control/tlspolicy's levels
    "core/lib/tls/names.ts", // ... the certificate name rules
    "core/lib/tls/sts.ts", // ... which MX hosts an MTA-STS policy allows
    "core/io/tls/controls.ts", // ... reading control/tlspolicy and control/tlsca
    "core/io/tls/sts-cache.ts", // ... the MTA-STS policy cache
    "core/io/tls/sts-fetch.ts", // ... and its fetch
    "core/lib/tls/dane.ts", // ... DANE's TLSA records and what they say for a host
    "core/io/tls/dane.ts", // ... the TLSA lookup and the check of a certificate chain against it
    "core/lib/tls/rpt.ts", // ... TLS-RPT's records and reports
    "core/io/tls/rpt-store.ts", // ... and the store remote delivery appends them to
  ],
  send: [
    "core/lib/send/bounce.ts", // the failure paragraphs of a bounce: qm qctl bounce writes them as qm send does
    "core/lib/send/notice.ts", // ... and builds the RFC 3464 report as qm send does
    "core/lib/send/rewrite.ts", // locals and virtualdomains: smtpd's recipient check routes as send does
    "core/io/send/controls.ts", // ... reading the same control files
    "core/lib/send/spawn-wire.ts", // the spawn protocol's frames, which lspawn's wire to its workers reuses
    // The queue's send-side store (io/queue/store.ts) takes send's channel records; this
    // door closes when the store moves into the send room.
    "core/lib/send/state.ts",
  ],
};

/** The send side of the queue: only the queue manager (and the queue room itself) opens it. */
const SEND_ONLY: Record<string, readonly string[]> = {
  "core/io/queue/store.ts": ["core/prog/send.ts", "core/io/queue/"], // io/queue/bounce.ts reads the bounce file through it
  "core/io/send/spawner.ts": ["core/prog/send.ts"],
};

/** Names of the queue's directories and lock files (core/lib/queue/layout.ts). */
const QUEUE_NAMES = new Set(["queue", "mess", "info", "local", "remote", "pid", "intd", "todo", "bounce", "lock", "maildrop", "trigger", "sendmutex", "tcpto"]);
/**
 * Files outside the queue room that still build queue paths themselves. The
 * send restructure (another change) moves these onto the queue room's
 * functions (queueDir(), lockFile(), ...); the list only shrinks.
 */
const QUEUE_PATH_ALLOWED: Record<string, string> = {
  "core/prog/send.ts": "join(home, \"queue\"): the queue manager's own queue directory",
  "core/prog/lspawn.ts": "resolve(home, \"queue\", \"mess\"): checks a message path is inside the queue",
  "core/prog/rspawn.ts": "join(home, \"queue\", \"mess\"): checks a message path is inside the queue",
};

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const rel = `${dir}/${name}`;
    return statSync(join(ROOT, rel)).isDirectory() ? files(rel) : rel.endsWith(".ts") ? [rel] : [];
  });
}
function imports(text: string): string[] {
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*)["']([^"']+)["']/g)].map((m) => m[1] ?? "");
}
function resolve(from: string, spec: string): string {
  return join(from, "..", spec).replace(/\\/g, "/");
}
/** "queue" for core/lib/queue/x.ts and core/io/queue/x.ts; null outside the rooms. */
function roomOf(file: string): string | null {
  return /^core\/(?:lib|io)\/([^/]+)\//.exec(file)?.[1] ?? null;
}

/** docs/style.md §2: which layer may import which. */
function layerRule(file: string, spec: string): string | null {
  if (spec.startsWith("node:")) return file.startsWith("core/lib/") ? "core/lib may not use node: built-ins" : null;
  if (!spec.startsWith(".")) {
    const home = PACKAGE_HOME[spec];
    if (!home) return `unknown package ${spec}`;
    return file.startsWith(home) ? null : `${spec} belongs to ${home}`;
  }
  const target = resolve(file, spec);
  if (file.startsWith("core/lib/")) return target.startsWith("core/lib/") ? null : "core/lib imports only core/lib";
  if (file.startsWith("core/io/")) return target.startsWith("core/lib/") || target.startsWith("core/io/") ? null : "core/io imports core/io and core/lib";
  if (file.startsWith("core/prog/")) return target.startsWith("core/prog/") ? "a program never imports another program" : null;
  if (file.startsWith("cli/")) return target.startsWith("core/io/") && target !== "core/io/base/log.ts" && target !== "core/io/base/sys.ts" ? "cli goes through core/prog" : null;
  return null;
}

/** A room reaches another only through its doors; a room's `_name.ts` is its own. */
function doorRule(file: string, spec: string): string | null {
  if (!spec.startsWith(".")) return null;
  const target = resolve(file, spec);
  const to = roomOf(target);
  const from = roomOf(file);
  if (to === null || to === from) return null;
  if (/\/_[^/]*$/.test(target)) return `${target} is private to the ${to} room`;
  if (from === null || to === "base") return null;
  return (DOORS[to] ?? []).includes(target) ? null : `the ${from} room reaches the ${to} room only through its doors (${(DOORS[to] ?? []).join(", ") || "none"})`;
}

/** Only the queue manager opens the send side of the queue. */
function sendOnlyRule(file: string, spec: string): string | null {
  if (!spec.startsWith(".")) return null;
  const allowed = SEND_ONLY[resolve(file, spec)];
  if (!allowed || allowed.some((a) => (a.endsWith("/") ? file.startsWith(a) : file === a))) return null;
  return `only ${allowed.join(" and ")} may use it`;
}

function importProblems(file: string, text: string): string[] {
  const bad: string[] = [];
  for (const spec of imports(text)) {
    for (const rule of [layerRule, doorRule, sendOnlyRule]) {
      const why = rule(file, spec);
      if (why) bad.push(`${file}: ${spec}: ${why}`);
    }
  }
  return bad;
}

/**
 * Queue paths built outside the queue room: a string with a path segment
 * "queue" beside a slash ("queue/lock", `${home}/queue`), or a queue name
 * handed to join()/resolve() as a path part. Import specifiers do not count.
 */
function queuePathProblems(file: string, text: string, exempt: Record<string, string> = QUEUE_PATH_ALLOWED): string[] {
  if (roomOf(file) === "queue" || exempt[file]) return [];
  const src = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const bad: string[] = [];
  const report = (node: ts.Node, what: string) => bad.push(`${file}:${src.getLineAndCharacterOfPosition(node.getStart()).line + 1}: ${what} builds a queue path outside the queue room (use core/lib/queue/layout.ts)`);
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) return;
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) return;
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) {
      if (node.text.includes("/") && /(?:^|\/)queue(?:\/|$)/.test(node.text)) report(node, JSON.stringify(node.text));
    }
    if (ts.isCallExpression(node)) {
      const callee = ts.isPropertyAccessExpression(node.expression) ? node.expression.name.text : ts.isIdentifier(node.expression) ? node.expression.text : "";
      if (callee === "join" || callee === "resolve") {
        for (const arg of node.arguments) if (ts.isStringLiteral(arg) && QUEUE_NAMES.has(arg.text)) report(arg, `${callee}(..., ${JSON.stringify(arg.text)})`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(src);
  return bad;
}

function tree(): Map<string, string> {
  return new Map([...files("core"), ...files("cli")].map((f) => [f, readFileSync(join(ROOT, f), "utf8")]));
}

describe("layering", () => {
  const all = tree();

  it("keeps every import inside the table of docs/style.md §2, through the rooms' doors", () => {
    assert.deepEqual([...all].flatMap(([file, text]) => importProblems(file, text)), []);
  });

  it("leaves only the queue room to build paths into the queue", () => {
    assert.deepEqual([...all].flatMap(([file, text]) => queuePathProblems(file, text)), []);
  });

  it("lists as doors and exceptions only files that exist and are still needed", () => {
    for (const door of Object.values(DOORS).flat()) {
      assert.ok(all.has(door), `${door} is not a file`);
      const users = [...all].filter(([f, text]) => roomOf(f) !== null && roomOf(f) !== roomOf(door) && imports(text).some((s) => s.startsWith(".") && resolve(f, s) === door));
      assert.ok(users.length > 0, `${door} is a door no other room comes through: take it off the list`);
    }
    for (const [file, why] of Object.entries(QUEUE_PATH_ALLOWED)) {
      assert.ok(all.has(file), `${file} is not a file`);
      assert.ok(queuePathProblems(file, all.get(file)!, {}).length > 0, `${file} no longer builds queue paths (${why}): take it off the list`);
    }
  });

  it("reports each kind of violation (the rules themselves, on synthetic files)", () => {
    const cases: [file: string, text: string, expect: RegExp][] = [
      ["core/lib/smtpd/x.ts", `import { readFileSync } from "node:fs";`, /core\/lib may not use node: built-ins/],
      ["core/io/smtpd/x.ts", `import { run } from "../../prog/send.ts";`, /core\/io imports core\/io and core\/lib/],
      ["core/prog/qread.ts", `import { send } from "./send.ts";`, /a program never imports another program/],
      ["cli/x.ts", `import { enqueue } from "../core/io/queue/enqueue.ts";`, /cli goes through core\/prog/],
      ["core/io/base/x.ts", `import mp from "mailparser";`, /unknown package mailparser/],
      ["core/io/smtpd/x.ts", `import { enqueue } from "../queue/enqueue.ts";`, /the smtpd room reaches the queue room only through its doors/],
      ["core/lib/inject/x.ts", `const m = await import("../send/schedule.ts");`, /the inject room reaches the send room only through its doors/],
      ["core/prog/inject.ts", `import { x } from "../io/queue/_private.ts";`, /private to the queue room/],
      ["core/prog/qread.ts", `import * as store from "../io/queue/store.ts";`, /only core\/prog\/send\.ts and core\/io\/queue\/ may use it/],
      ["core/io/remote/x.ts", `import { Spawner } from "../send/spawner.ts";`, /only core\/prog\/send\.ts may use it/],
      ["core/io/remote/x.ts", `const p = join(home, "queue", "lock", "tcpto");`, /join\(\.\.\., "queue"\) builds a queue path/],
      ["core/prog/smtpd.ts", 'const p = `${home}/queue/maildrop`;', /"\/queue\/maildrop" builds a queue path/],
      ["core/prog/inject.ts", `const p = path.resolve(q, "todo");`, /resolve\(\.\.\., "todo"\) builds a queue path/],
    ];
    for (const [file, text, expect] of cases) {
      const got = [...importProblems(file, text), ...queuePathProblems(file, text)];
      assert.ok(got.some((g) => expect.test(g)), `${file}: ${text}\nexpected ${expect}, got ${JSON.stringify(got)}`);
    }
    // and what is allowed stays allowed
    const fine: [string, string][] = [
      ["core/io/queue/bounce.ts", `import { messPath } from "./store.ts";`],
      ["core/prog/send.ts", `import * as store from "../io/queue/store.ts";`],
      ["core/io/remote/tcpto.ts", `import { lockFile } from "../../lib/queue/layout.ts";`],
      ["core/io/smtpd/x.ts", `import { qmHome } from "../base/sys.ts";`],
      ["core/io/queue/x.ts", `const p = join(home, "queue", "mess");`],
      ["cli/queue.ts", `export default { name: "queue" }; import q from "../core/prog/queue.ts";`],
    ];
    for (const [file, text] of fine) assert.deepEqual([...importProblems(file, text), ...queuePathProblems(file, text)], [], `${file}: ${text}`);
  });
});
