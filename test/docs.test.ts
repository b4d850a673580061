import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

// Every reference to a document must resolve inside a clone (issue 13 item 6;
// docs/style.md §8): a file outside docs/ may name a markdown file only if it
// exists in the repository, and a "docs/x.md §N.M" section only if docs/x.md
// has a heading numbered N.M. Inside docs/, section references are checked
// too (a link to a docs file that is not there yet is left to review).

const ROOT = resolve(new URL("..", import.meta.url).pathname);
const SKIP_DIRS = new Set([".git", "node_modules", "dist"]);
const BINARY = /\.(png|jpe?g|gif|ico|gz|tgz|zip|cdb|bin|wasm|lockb)$/i;

/** A markdown file named in text: not part of a longer path, URL or shell variable ($W/x.md). */
const DOC_NAME = /(?<![\w$/.~-])((?:\.{1,2}\/)*(?:[\w-]+\/)*[\w.-]*\w\.md)\b/g;
/** "docs/x.md §1.2", "docs/x.md §2.8, §2.9", "docs/x.md §3.2–3.3", across a comment's line break. */
const SECTION_REF = /\b(docs\/[\w-]+\.md)((?:[\s*/#]*§\s?\d+(?:\.\d+)*(?:\s?[–-]\s?§?\d+(?:\.\d+)*)?,?)+)/g;
const SECTION = /§\s?(\d+(?:\.\d+)*)(?:\s?[–-]\s?§?(\d+(?:\.\d+)*))?/g;
/** One of qm's own man pages, as prose cites it: qm-send(8), qm(8). */
const MAN_REF = /(?<![\w-])(qm(?:-[a-z0-9-]+)?)\(([1-8])\)/g;

function walk(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const rel = dir === "" ? name : `${dir}/${name}`;
    if (SKIP_DIRS.has(name)) return [];
    const st = statSync(join(ROOT, rel));
    if (st.isDirectory()) return walk(rel);
    return st.isFile() && !BINARY.test(name) ? [rel] : [];
  });
}

/** The numbers of a markdown file's numbered headings: "## 2. Title" -> "2", "### 2.8 Title" -> "2.8". */
export function sectionNumbers(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const m of markdown.matchAll(/^#{1,6}\s+(\d+(?:\.\d+)*)\.?\s/gm)) out.add(m[1]!);
  return out;
}

type Sections = ReadonlyMap<string, ReadonlySet<string>>;

/**
 * What is wrong with the document references in `text` (a file at `file`,
 * relative to the root): names of markdown files that do not exist (relative
 * to the root or to the file, and inside the repository), and docs sections
 * that have no heading. `exists` and `sections` describe the repository.
 */
export function badReferences(file: string, text: string, exists: (rel: string) => boolean, sections: Sections, checkFiles = true): string[] {
  const bad: string[] = [];
  const lineOf = (at: number) => text.slice(0, at).split("\n").length;
  if (checkFiles) {
    for (const m of text.matchAll(DOC_NAME)) {
      const name = m[1]!;
      const candidates = [name, join(dirname(file), name)].map((p) => relative(ROOT, resolve(ROOT, p)));
      if (!candidates.some((p) => !p.startsWith("..") && exists(p))) bad.push(`${file}:${lineOf(m.index)}: ${name} is not in the repository`);
    }
  }
  if (checkFiles) {
    for (const m of text.matchAll(MAN_REF)) {
      if (!exists(`man/${m[1]}.${m[2]}`)) bad.push(`${file}:${lineOf(m.index)}: ${m[1]}(${m[2]}) has no page in man/`);
    }
  }
  for (const m of text.matchAll(SECTION_REF)) {
    const doc = m[1]!;
    const known = sections.get(doc);
    if (!known) {
      if (checkFiles) bad.push(`${file}:${lineOf(m.index)}: ${doc} has no numbered sections`);
      continue;
    }
    for (const s of m[2]!.matchAll(SECTION)) {
      for (const n of [s[1], s[2]]) {
        if (n !== undefined && !known.has(n)) bad.push(`${file}:${lineOf(m.index)}: ${doc} has no section §${n}`);
      }
    }
  }
  return bad;
}

function repoSections(): Map<string, Set<string>> {
  const map = new Map<string, Set<string>>();
  for (const name of readdirSync(join(ROOT, "docs"))) {
    if (name.endsWith(".md")) map.set(`docs/${name}`, sectionNumbers(readFileSync(join(ROOT, "docs", name), "utf8")));
  }
  return map;
}

describe("document references", () => {
  const fakeSections: Sections = new Map([["docs/qmail.md", new Set(["1", "1.2", "2", "2.8", "2.9", "3.2", "3.3", "4.3", "4.7"])]]);
  const fakeFiles = new Set(["docs/qmail.md", "HACKING.md", "bench/RESULTS.md", "man/qm-send.8", "man/qm.8"]);
  const check = (file: string, text: string) => badReferences(file, text, (p) => fakeFiles.has(p), fakeSections);

  it("accepts references that resolve, in the forms the code uses", () => {
    const ok = [
      "// see docs/qmail.md §1.2 for the order",
      "/* docs/qmail.md §2.8, §2.9: completion */",
      "(docs/qmail.md §3.2–3.3, §4.3–4.7)",
      " * `qm send`: the queue manager (docs/qmail.md\n * §2). Preprocesses",
      "read HACKING.md first",
      "# --- RESULTS.md ---", // bench/run.sh names its sibling
      "cat > $W/rows.md", // a shell variable's file, not a reference
      "https://example.org/path/README.md",
      "see qm-send(8) and qm(8); qmail-send(8) is qmail's",
    ];
    for (const text of ok) assert.deepEqual(check(text.includes("RESULTS") ? "bench/run.sh" : "core/x.ts", text), [], text);
  });

  it("flags a document that is not in the repository", () => {
    assert.equal(check("core/x.ts", "// qmail.md §4.5").length, 1);
    assert.equal(check("HACKING.md", "Read `../shared/DESIGN.md` first").length, 1);
    assert.equal(check("core/x.ts", "(DESIGN.md \"Files\")").length, 1);
    assert.equal(check("core/x.ts", "// STYLE.md §2.2").length, 1);
  });

  it("flags a qm man page that man/ does not have", () => {
    assert.deepEqual(check("core/x.ts", "(man qm-sendd(8))"), ["core/x.ts:1: qm-sendd(8) has no page in man/"]);
    assert.equal(check("core/x.ts", "qm-send(5)").length, 1);
  });

  it("flags a section that has no heading, at either end of a range", () => {
    assert.deepEqual(check("core/x.ts", "docs/qmail.md §9.9"), ["core/x.ts:1: docs/qmail.md has no section §9.9"]);
    assert.equal(check("core/x.ts", "docs/qmail.md §3.2–3.4").length, 1);
    assert.equal(check("core/x.ts", "docs/qmail.md §1.2, §2.7").length, 1);
    assert.equal(check("core/x.ts", "docs/style.md §2").length, 2); // neither the file nor its sections exist
  });

  it("reads numbered headings of every level", () => {
    assert.deepEqual([...sectionNumbers("# Title\n## 1. One\n### 1.2 Two\n#### 1.2.3 Three\n## Not numbered\n")], ["1", "1.2", "1.2.3"]);
  });

  it("finds no reference outside docs/ that a clone cannot follow", () => {
    const sections = repoSections();
    const exists = (rel: string) => existsSync(join(ROOT, rel));
    const bad: string[] = [];
    for (const file of walk("")) {
      if (file === "test/docs.test.ts") continue; // its examples are wrong on purpose
      const text = readFileSync(join(ROOT, file), "latin1");
      if (text.includes("\0")) continue;
      bad.push(...badReferences(file, text, exists, sections, !file.startsWith("docs/")));
    }
    assert.deepEqual(bad, []);
  });
});
