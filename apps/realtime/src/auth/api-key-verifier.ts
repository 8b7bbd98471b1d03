import { createHash, timingSafeEqual } from "node:crypto";

export interface ApiKeyVerifier {
  /** A short, non-secret name of the matched key (for rate limits), or undefined when none matches. */
  identify(presented: string | undefined): string | undefined;
}

const sha256 = (text: string): Buffer => createHash("sha256").update(text).digest();

/**
 * Accepts a raw key and any key whose sha256 is listed (rotation). Digests are compared in constant
 * time against every accepted key, so neither the key nor which one matched leaks through timing.
 */
export function createApiKeyVerifier(rawKey: string | undefined, hashes: string[]): ApiKeyVerifier {
  const accepted = [...(rawKey ? [sha256(rawKey)] : []), ...hashes.map((hex) => Buffer.from(hex, "hex"))];
  return {
    identify(presented) {
      if (!presented || presented.length > 1024) return undefined;
      const digest = sha256(presented);
      let match: Buffer | undefined;
      for (const key of accepted) if (timingSafeEqual(key, digest)) match = key;
      return match?.toString("hex").slice(0, 12);
    },
  };
}
