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
 *
 * A key that matched is remembered as the bytes it was presented as (at most `REMEMBERED` of them,
 * dropped on `replace`), and the next call with the same bytes is answered by a constant-time
 * comparison against each remembered key instead of a sha256: a hash per call was 3 % of a
 * broadcast call's CPU. A wrong key still costs the sha256 and leaks nothing more than its length.
 */
export function createApiKeyVerifier(rawKey: string | undefined, hashes: string[]): ApiKeyVerifier {
  let accepted = digestsOf(rawKey, hashes);
  let remembered: Array<{ bytes: Buffer; name: string }> = [];
  return {
    get count() {
      return accepted.length;
    },
    replace(newRawKey, newHashes) {
      accepted = digestsOf(newRawKey, newHashes);
      remembered = [];
    },
    identify(presented) {
      if (!presented || presented.length > 1024) return undefined;
      const bytes = Buffer.from(presented);
      let known: string | undefined;
      for (const key of remembered) {
        if (key.bytes.length === bytes.length && timingSafeEqual(key.bytes, bytes)) known = key.name;
      }
      if (known !== undefined) return known;
      const digest = sha256(presented);
      let match: Accepted | undefined;
      for (const key of accepted) if (timingSafeEqual(key.digest, digest)) match = key;
      if (match && remembered.length < REMEMBERED) remembered.push({ bytes, name: match.name });
      return match?.name;
    },
  };
}

/** Distinct presented keys remembered (the raw key and a few rotated ones in use at once). */
const REMEMBERED = 8;

interface Accepted {
  digest: Buffer;
  /** A short, non-secret name: the digest's first 12 hex digits. */
  name: string;
}

/** The sha256 digests of the accepted keys, each once. */
function digestsOf(rawKey: string | undefined, hashes: string[]): Accepted[] {
  const hex = new Set([...(rawKey ? [sha256(rawKey).toString("hex")] : []), ...hashes.map((h) => h.toLowerCase())]);
  return [...hex].map((digest) => ({ digest: Buffer.from(digest, "hex"), name: digest.slice(0, 12) }));
}
