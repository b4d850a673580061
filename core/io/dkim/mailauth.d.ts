// The few parts of mailauth 7 (CommonJS, no types for these files) that
// core/io/dkim uses. Only its submodules: the main entry loads BIMI and
// undici, which need a newer Node than qm does.
declare module "mailauth/lib/tools.js" {
  const tools: {
    readonly defaultDKIMFieldNames: string;
    formatSignatureHeaderLine(type: "DKIM", values: Record<string, unknown>, folded: boolean): string;
    getPublicKey(
      type: "DKIM",
      name: string,
      minBitLength: number,
      resolver: (name: string, type: string) => Promise<string[][]>,
    ): Promise<{ publicKey: string; rr: string; modulusLength?: number; keyType: string; testing: boolean }>;
  };
  export default tools;
}
declare module "mailauth/lib/dkim/message-parser.js" {
  export interface ParsedHeader {
    readonly key: string | null;
    readonly casedKey?: string;
    readonly line: Uint8Array;
  }
  class MessageParser {
    state: "header" | "body";
    headerBytes: number;
    writeAsync(chunk: Uint8Array): Promise<void>;
    finish(): Promise<void>;
    messageHeaders(headers: { parsed: ParsedHeader[] }): Promise<void>;
    nextChunk(chunk: Uint8Array): Promise<void>;
    finalChunk(): Promise<void>;
  }
  const mod: { MessageParser: typeof MessageParser };
  export default mod;
}
declare module "mailauth/lib/dkim/body/index.js" {
  const mod: { dkimBody(canon: "relaxed", algo: "sha256", maxLength: false): { update(chunk: Uint8Array): void; digest(enc: "base64"): string } };
  export default mod;
}
declare module "mailauth/lib/dkim/header/relaxed.js" {
  const mod: {
    relaxedHeaders(
      type: "DKIM",
      lines: { keys: string; headers: readonly unknown[] },
      opts: Record<string, unknown>,
    ): { canonicalizedHeader: Uint8Array; dkimHeaderOpts: Record<string, unknown> };
  };
  export default mod;
}
