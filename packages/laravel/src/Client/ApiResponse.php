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
    ) {
    }

    public static function answered(int $status, string $body, int $attempts): self
    {
        $json = json_decode($body, true);

        return new self(
            $status >= 200 && $status < 300 ? self::OK : self::HTTP_ERROR,
            $status,
            $body,
            is_array($json) ? $json : null,
            null,
            $attempts,
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
