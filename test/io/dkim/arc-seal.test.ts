import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chainStatus, ourResults } from "../../../core/io/dkim/arc-seal.ts";

const h = (line: string) => ({ key: line.slice(0, line.indexOf(":")).trim().toLowerCase(), line: Buffer.from(line, "latin1") });

describe("ourResults() and chainStatus()", () => {
  it("finds the Authentication-Results field with our authserv-id, unfolded", () => {
    const headers = [h("Received: x"), h("Authentication-Results: other.test; spf=pass"), h("Authentication-Results: MX.example.test;\r\n\tspf=pass smtp.mailfrom=a@b;\r\n\tarc=pass")];
    assert.equal(ourResults(headers, "mx.example.test"), "MX.example.test; spf=pass smtp.mailfrom=a@b; arc=pass");
    assert.equal(ourResults(headers.slice(0, 2), "mx.example.test"), null);
    assert.equal(ourResults([h("Authentication-Results: (mx.example.test) other.test; spf=pass")], "mx.example.test"), null, "only the RFC reading counts here");
  });
  it("seals with the arc= result smtpd found: pass or fail, else none", () => {
    assert.equal(chainStatus("mx; spf=pass; arc=pass (i=1)"), "pass");
    assert.equal(chainStatus("mx; arc=FAIL"), "fail");
    assert.equal(chainStatus("mx; spf=pass; dkim=pass"), "none");
    assert.equal(chainStatus("mx; spf=pass (arc=pass is a comment)"), "none");
  });
});
