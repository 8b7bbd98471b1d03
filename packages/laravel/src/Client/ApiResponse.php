<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Client;

/**
 * What one call to the realtime API came to, after its retries. Never an exception.
 */
final class ApiResponse
{
    public const OK = 'ok';
    /** The server answered with a non-2xx status. */
    public const HTTP_ERROR = 'http_error';
    /** No answer: connection refused, timeout, DNS, TLS. */
    public const UNREACHABLE = 'unreachable';
    /** Nothing was sent: the package is missing a setting. */
    public const NOT_CONFIGURED = 'not_configured';
    /** Nothing was sent: the request itself could not be built (e.g. not JSON-encodable). */
    public const INVALID = 'invalid';

    private function __construct(
        public readonly string $outcome,
        public readonly ?int $status,
        public readonly string $body,
        public readonly ?array $json,
        /** Transport or configuration problem, in words; null for HTTP answers. */
        public readonly ?string $error,
        public readonly int $attempts,
        /** Seconds the server asked to wait before trying again (Retry-After), when it did. */
        public readonly ?int $retryAfter = null,
    ) {
    }

    public static function answered(int $status, string $body, int $attempts, ?string $retryAfter = null): self
    {
        $json = json_decode($body, true);

        return new self(
            $status >= 200 && $status < 300 ? self::OK : self::HTTP_ERROR,
            $status,
            $body,
            is_array($json) ? $json : null,
            null,
            $attempts,
            self::seconds($retryAfter),
        );
    }

    public static function failed(string $outcome, string $error, int $attempts = 0): self
    {
        return new self($outcome, null, '', null, $error, $attempts);
    }

    public function successful(): bool
    {
        return $this->outcome === self::OK;
    }

    /** True when trying again later may succeed: no answer, a 429 or a 5xx. Other answers stay what they are. */
    public function retriable(): bool
    {
        return $this->outcome === self::UNREACHABLE
            || $this->status === 429
            || ($this->status !== null && $this->status >= 500);
    }

    /** Retry-After is seconds or an HTTP date. */
    private static function seconds(?string $retryAfter): ?int
    {
        $retryAfter = trim((string) $retryAfter);
        if ($retryAfter === '') {
            return null;
        }
        if (ctype_digit($retryAfter)) {
            return (int) $retryAfter;
        }
        $at = strtotime($retryAfter);

        return $at === false ? null : max(0, $at - time());
    }

    /** The API's stable error code (`unauthorized`, `validation_failed`, ...) or the outcome. */
    public function errorCode(): ?string
    {
        if ($this->successful()) {
            return null;
        }
        $code = $this->json['error'] ?? null;

        return is_string($code) ? $code : $this->outcome;
    }
}
