<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Client;

/**
 * The effective settings of the outbound client, resolved once from config('websocket').
 */
final class ClientConfig
{
    /**
     * The integration guide's config/websocket.php gives NODEJS_BROADCAST_URL this
     * default, so with the guide's file an unset NODEJS_BROADCAST_URL reads as this URL.
     */
    public const GUIDE_PLACEHOLDER_URL = 'https://realtime.mechamap.com';

    public const DEFAULT_TIMEOUT = 10.0;
    public const DEFAULT_RETRY_ATTEMPTS = 3;

    public function __construct(
        /** Base URL of the API, no trailing slash; '' when none is configured. */
        public readonly string $baseUrl,
        /** Raw X-WebSocket-API-Key; null when WEBSOCKET_API_KEY is empty. */
        public readonly ?string $apiKey,
        /** Seconds a whole call may take, retries included. */
        public readonly float $timeout = self::DEFAULT_TIMEOUT,
        /** Retries after the first attempt (at once: nothing sleeps inside a request). */
        public readonly int $retryAttempts = self::DEFAULT_RETRY_ATTEMPTS,
    ) {
    }

    /**
     * Precedence of the base URL: `broadcasting.url` (NODEJS_BROADCAST_URL) when set, else
     * `server.url` (WEBSOCKET_SERVER_URL). The guide's placeholder in `broadcasting.url`
     * counts as unset when `server.url` says something else, so an app that still has the
     * guide's config file does not send its broadcasts to the placeholder host.
     */
    public static function fromArray(array $config): self
    {
        $server = self::url($config['server']['url'] ?? null);
        $broadcast = self::url($config['broadcasting']['url'] ?? null);
        if ($broadcast === self::GUIDE_PLACEHOLDER_URL && $server !== null && $server !== $broadcast) {
            $broadcast = null;
        }

        $key = $config['api_key'] ?? null;
        $key = is_string($key) && trim($key) !== '' ? trim($key) : null;

        $broadcasting = $config['broadcasting'] ?? [];
        $timeout = is_numeric($broadcasting['timeout'] ?? null) ? (float) $broadcasting['timeout'] : self::DEFAULT_TIMEOUT;
        $retries = is_numeric($broadcasting['retry_attempts'] ?? null)
            ? (int) $broadcasting['retry_attempts'] : self::DEFAULT_RETRY_ATTEMPTS;

        return new self(
            $broadcast ?? $server ?? '',
            $key,
            $timeout > 0 ? $timeout : self::DEFAULT_TIMEOUT,
            max(0, min(10, $retries)),
        );
    }

    private static function url(mixed $value): ?string
    {
        if (! is_string($value) || trim($value) === '') {
            return null;
        }

        return rtrim(trim($value), '/');
    }
}
