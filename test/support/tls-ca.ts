// A test certificate authority made with openssl: a CA, and leaf
// certificates it signs for given DNS names. null when openssl is missing.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCa {
  readonly cert: string;
  /** A key and certificate for `names` (DNS SANs; CN is the first name unless cn is given). */
  leaf(names: readonly string[], cn?: string): { key: string; cert: string };
  close(): void;
}

export function makeCa(): TestCa | null {
  const dir = mkdtempSync(join(tmpdir(), "qm-ca-"));
  const ossl = (args: string[]) => execFileSync("openssl", args, { stdio: "ignore", cwd: dir, timeout: 30_000 });
  try {
    ossl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=qm test CA", "-days", "2",
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
      "-keyout", "ca.key", "-out", "ca.pem"]);
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
  let n = 0;
  return {
    cert: readFileSync(join(dir, "ca.pem"), "utf8"),
    leaf(names, cn) {
      const i = n++;
      const san = names.map((x) => `DNS:${x}`).join(",");
      writeFileSync(join(dir, `ext${i}`), `${san ? `subjectAltName=${san}\n` : ""}basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
      ossl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", `/CN=${cn ?? names[0] ?? "none"}`,
        "-keyout", `l${i}.key`, "-out", `l${i}.csr`]);
      ossl(["x509", "-req", "-in", `l${i}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1",
        "-extfile", `ext${i}`, "-out", `l${i}.pem`]);
      return { key: readFileSync(join(dir, `l${i}.key`), "utf8"), cert: readFileSync(join(dir, `l${i}.pem`), "utf8") };
    },
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}
