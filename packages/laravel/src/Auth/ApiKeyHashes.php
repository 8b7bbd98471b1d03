<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Auth;

/**
 * The sha256 digests of the API keys the realtime node may present on its callbacks.
 */
final class ApiKeyHashes
{
    /**
     * @param list<string> $hashes lowercase sha256 hex digests
     * @param list<string> $invalid configured entries that are not sha256 hex digests
     */
    private function __construct(public readonly array $hashes, public readonly array $invalid)
    {
    }

    /**
     * From WEBSOCKET_API_KEY_HASH (comma-separated digests, for key rotation). When it is
     * empty, the digest of WEBSOCKET_API_KEY: the node sends the same raw key it accepts.
     */
    public static function fromConfig(mixed $hashList, mixed $rawKey): self
    {
        $hashes = [];
        $invalid = [];
        foreach (explode(',', is_string($hashList) ? $hashList : '') as $entry) {
            $entry = strtolower(trim($entry));
            if ($entry === '') {
                continue;
            }
            if (preg_match('/^[0-9a-f]{64}$/D', $entry)) {
                $hashes[] = $entry;
            } else {
                $invalid[] = $entry;
            }
        }

        if ($hashes === [] && $invalid === [] && is_string($rawKey) && trim($rawKey) !== '') {
            $hashes[] = hash('sha256', trim($rawKey));
        }

        return new self(array_values(array_unique($hashes)), $invalid);
    }

    public function isEmpty(): bool
    {
        return $this->hashes === [];
    }

    /** Compares the key's digest with every accepted digest, in constant time for each. */
    public function accepts(string $key): bool
    {
        $digest = hash('sha256', $key);
        $accepted = false;
        foreach ($this->hashes as $hash) {
            // No early exit: the time taken does not tell which entry matched.
            $accepted = hash_equals($hash, $digest) || $accepted;
        }

        return $accepted;
    }
}
