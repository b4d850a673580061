// The few parts of mailauth 7 (CommonJS, no types for these files) that
// core/io/dkim uses: signing (sign.ts, check.ts) and checking what arrives
// (inbound.ts: SPF, DKIM verification, DMARC, ARC). Only its submodules: the main entry loads BIMI and
// undici, which need a newer Node than qm does.
declare module "mailauth/lib/tools.js" {
  const tools: {
    readonly defaultDKIMFieldNames: string;
    formatAuthHeaderRow(method: string, status: { result: string; comment?: string; smtp?: Record<string, string> }): string;
    formatSignatureHeaderLine(type: "DKIM", values: Record<string, unknown>, folded: boolean): string;
    getPublicKey(
      type: "DKIM",
      name: string,
      minBitLength: number,
      resolver: (name: string, type: string) => Promise<unknown[]>,
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

type Resolver = (name: string, type: string) => Promise<unknown[]>;
/** One method's result as mailauth reports it; `info` is its Authentication-Results text. */
interface MethodStatus {
  readonly result: string;
  readonly comment?: string;
  readonly aligned?: string | false;
  readonly underSized?: number;
}
declare module "mailauth/lib/spf/index.js" {
  export interface SpfResponse {
    readonly domain: string;
    readonly status: MethodStatus;
    readonly info: string;
    readonly lookups?: { readonly limit: number; readonly count: number; readonly void: number };
  }
  const mod: {
    spf(opts: {
      sender: string;
      ip: string;
      helo: string;
      mta: string;
      resolver: Resolver;
      maxResolveCount?: number;
      maxVoidCount?: number;
      maxElapsedTime?: number;
    }): Promise<SpfResponse>;
  };
  export default mod;
}
declare module "mailauth/lib/dkim/verify.js" {
  export interface DkimRow {
    readonly id?: string;
    readonly signingDomain: string;
    readonly status: MethodStatus;
    readonly info: string;
  }
  export interface DkimVerifyResult {
    readonly headerFrom: string[];
    readonly fromFields: number;
    readonly results: DkimRow[];
    /** Not enumerable: the parsed ARC chain, for arc(). */
    readonly arc?: unknown;
  }
  const mod: {
    dkimVerify(input: Uint8Array, opts: { resolver: Resolver; sender?: string; minBitLength?: number }): Promise<DkimVerifyResult>;
  };
  export default mod;
}
declare module "mailauth/lib/arc/index.js" {
  export interface ArcResult {
    readonly status: MethodStatus;
    readonly info?: string;
  }
  const mod: {
    arc(data: unknown, opts: { resolver: Resolver; minBitLength?: number; ip?: string }): Promise<ArcResult>;
    createSeal(
      input: NodeJS.ReadableStream,
      data: { seal: { signingDomain: string; selector: string; privateKey: string; algorithm: string; cv: string; authResults: string; signTime: Date } },
    ): Promise<{ headers: string[]; errors?: { err?: { code?: string; message?: string } }[] }>;
  };
  export default mod;
}
declare module "mailauth/lib/dmarc/index.js" {
  export interface DmarcResponse {
    readonly status: MethodStatus;
    readonly info: string;
    /** The policy that applies (after sp=, np= and t=y). */
    readonly policy?: string;
    readonly domain?: string;
  }
  const mod: {
    evaluateDmarc(opts: {
      headerFrom: string[];
      fromFields: number;
      spfDomains: string[];
      dkimDomains: { id?: string; domain: string; aligned?: string | false; underSized?: number }[];
      arcResult?: unknown;
      resolver: Resolver;
    }): Promise<{ response: DmarcResponse | false; reason?: string }>;
  };
  export default mod;
}
