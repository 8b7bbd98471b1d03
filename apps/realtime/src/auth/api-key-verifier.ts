import { createHash, timingSafeEqual } from "node:crypto";

export interface ApiKeyVerifier {
  /** A short, non-secret name of the matched key (for rate limits), or undefined when none matches. */
  identify(presented: string | undefined): string | undefined;
  /** How many distinct keys are accepted. */
  readonly count: number;
  /**
   * Accepts these keys from now on (SIGHUP). A request already past `identify` is not affected;
   * one that arrives after is judged by the new keys only.
   */
  replace(rawKey: string | undefined, hashes: string[]): void;
}

const sha256 = (text: string): Buffer => createHash("sha256").update(text).digest();

/**
 * Accepts a raw key and any key whose sha256 is listed (rotation). Digests are compared in constant
 * time against every accepted key, so neither the key nor which one matched leaks through timing.
 */
export function createApiKeyVerifier(rawKey: string | undefined, hashes: string[]): ApiKeyVerifier {
  let accepted = digestsOf(rawKey, hashes);
  return {
    get count() {
      return accepted.length;
    },
    replace(newRawKey, newHashes) {
      accepted = digestsOf(newRawKey, newHashes);
    },
    identify(presented) {
      if (!presented || presented.length > 1024) return undefined;
      const digest = sha256(presented);
      let match: Buffer | undefined;
      for (const key of accepted) if (timingSafeEqual(key, digest)) match = key;
      return match?.toString("hex").slice(0, 12);
    },
  };
}

/** The sha256 digests of the accepted keys, each once. */
function digestsOf(rawKey: string | undefined, hashes: string[]): Buffer[] {
  const hex = new Set([...(rawKey ? [sha256(rawKey).toString("hex")] : []), ...hashes.map((h) => h.toLowerCase())]);
  return [...hex].map((digest) => Buffer.from(digest, "hex"));
}
