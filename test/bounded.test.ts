// Tests are bounded: a test that hangs fails instead of stalling the run.
// scripts/test.sh gives every file --test-timeout; on top of that, in every
// test file that starts processes or opens sockets, each outermost describe()
// or it() carries a timeout of its own (so a file run alone is bounded too),
// and every synchronous spawn in test/ carries a `timeout` (a spawnSync that
// hangs blocks the event loop, and no test timeout can fire).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";

const ROOT = new URL("..", import.meta.url).pathname;
const TEST_CALLS = new Set(["describe", "it", "test", "suite"]);
const SYNC_SPAWNS = new Set(["spawnSync", "execSync", "execFileSync"]);
const RESOURCES = new Set(["node:child_process", "node:net", "node:dgram", "node:tls", "node:http", "node:https"]);
/** Shared helpers that start processes or servers; from qm.ts only these names do. */
const SPAWNING_SUPPORT = ["support/smtpd.ts", "support/send-env.ts", "support/netns.ts", "support/smtp-peer.ts", "support/dns-server.ts", "support/spawn.ts", "support/unbound.ts"];
const SPAWNING_QM = new Set(["runQm", "runProcess", "runQueue", "makeHome", "fastQm", "qmCommand"]);

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const rel = `${dir}/${name}`;
    return statSync(join(ROOT, rel)).isDirectory() ? files(rel) : rel.endsWith(".ts") ? [rel] : [];
  });
}

function calleeName(call: ts.CallExpression): string {
  const e = call.expression;
  if (ts.isIdentifier(e)) return e.text;
  if (ts.isPropertyAccessExpression(e)) return ts.isIdentifier(e.expression) && TEST_CALLS.has(e.expression.text) ? e.expression.text : e.name.text; // describe.skip(...) is a describe
  return "";
}
function hasTimeout(call: ts.CallExpression): boolean {
  return call.arguments.some((a) => ts.isObjectLiteralExpression(a) && a.properties.some((p) => p.name !== undefined && ts.isIdentifier(p.name) && p.name.text === "timeout"));
}

/** Does this test file start processes or open sockets? */
function spawns(src: ts.SourceFile): boolean {
  for (const st of src.statements) {
    if (!ts.isImportDeclaration(st) || !ts.isStringLiteral(st.moduleSpecifier)) continue;
    const spec = st.moduleSpecifier.text;
    if (RESOURCES.has(spec) || SPAWNING_SUPPORT.some((s) => spec.endsWith(s))) return true;
    const names = st.importClause?.namedBindings;
    if (spec.endsWith("support/qm.ts") && names && ts.isNamedImports(names) && names.elements.some((e) => SPAWNING_QM.has(e.name.text))) return true;
  }
  return false;
}

/** Problems in one file of test/: unbounded outermost tests (when it spawns), unbounded sync spawns. */
export function unbounded(file: string, text: string): string[] {
  const src = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const isTestFile = file.endsWith(".test.ts") && spawns(src);
  const bad: string[] = [];
  const where = (n: ts.Node) => `${file}:${src.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
  const visit = (node: ts.Node, insideTest: boolean): void => {
    let inside = insideTest;
    if (ts.isCallExpression(node)) {
      const name = calleeName(node);
      if (SYNC_SPAWNS.has(name) && !hasTimeout(node)) bad.push(`${where(node)}: ${name}() without a timeout`);
      if (TEST_CALLS.has(name) && node.arguments.length >= 2) {
        if (isTestFile && !insideTest && !hasTimeout(node)) bad.push(`${where(node)}: ${name}() starts processes or sockets without a timeout`);
        inside = true;
      }
    }
    ts.forEachChild(node, (child) => visit(child, inside));
  };
  visit(src, false);
  return bad;
}

describe("bounded tests", { timeout: 60_000 }, () => {
  it("bounds every test that starts processes or sockets, and every synchronous spawn", () => {
    const bad = files("test").flatMap((f) => unbounded(f, readFileSync(join(ROOT, f), "utf8")));
    assert.deepEqual(bad, []);
  });

  it("reports an unbounded suite, test or spawnSync (the rule itself, on synthetic files)", () => {
    const spawning = `import { spawn, spawnSync } from "node:child_process";\n`;
    assert.deepEqual(unbounded("test/x.test.ts", `${spawning}describe("a", () => { it("b", () => {}); });\nit("c", { skip: false }, () => {});\n`), [
      "test/x.test.ts:2: describe() starts processes or sockets without a timeout",
      "test/x.test.ts:3: it() starts processes or sockets without a timeout",
    ]);
    assert.deepEqual(unbounded("test/x.test.ts", `${spawning}describe("a", { timeout: 5000 }, () => { it("b", () => { spawnSync("true"); }); });\n`), [
      "test/x.test.ts:2: spawnSync() without a timeout",
    ]);
    assert.deepEqual(unbounded("test/x.test.ts", `${spawning}for (const x of [1]) describe.skip("a", { timeout: 1 }, () => { it("b", () => { spawnSync("true", [], { timeout: 9 }); }); });\n`), []);
    assert.deepEqual(unbounded("test/x.test.ts", `import { tempDir } from "./support/qm.ts";\ndescribe("pure", () => {});\n`), [], "a file that starts nothing needs no timeout");
    assert.deepEqual(unbounded("test/x.test.ts", `import { runQm } from "./support/qm.ts";\ndescribe("e2e", () => {});\n`), ["test/x.test.ts:2: describe() starts processes or sockets without a timeout"]);
  });
});
