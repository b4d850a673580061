import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

// docs/style.md §2: which layer may import which.
const ROOT = new URL("..", import.meta.url).pathname;
const PACKAGE_HOME: Record<string, string> = {
  citty: "cli/",
  consola: "core/io/base/log.ts",
  "consola/core": "core/io/base/log.ts",
  "dns-packet": "core/io/remote/dns.ts",
  mailparser: "core/io/message.ts",
};

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const rel = `${dir}/${name}`;
    return statSync(join(ROOT, rel)).isDirectory() ? files(rel) : rel.endsWith(".ts") ? [rel] : [];
  });
}
function imports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*)["']([^"']+)["']/g)].map((m) => m[1] ?? "");
}
function resolve(from: string, spec: string): string {
  return join(from, "..", spec).replace(/\\/g, "/");
}
function allowed(file: string, spec: string): string | null {
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

describe("layering", () => {
  it("keeps every import inside the table of docs/style.md §2", () => {
    const bad: string[] = [];
    for (const file of [...files("core"), ...files("cli")]) {
      for (const spec of imports(file)) {
        const why = allowed(file, spec);
        if (why) bad.push(`${file}: ${spec}: ${why}`);
      }
    }
    assert.deepEqual(bad, []);
  });
});
