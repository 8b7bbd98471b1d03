<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Client;

use Closure;
use GuzzleHttp\Exception\TransferException;
use Illuminate\Http\Client\ConnectionException;
use Illuminate\Http\Client\Factory;
use Psr\Log\LoggerInterface;
use Throwable;

/**
 * HTTP transport to the realtime API: one time budget per call, retries with back-off on
 * connection errors, 429 and 5xx (never on other 4xx), and no exceptions out.
 *
 * Requests go through Laravel's HTTP client (so an app's Http::fake() sees them) and
 * keep the integration guide's headers; POSTs may add an Idempotency-Key.
 */
final class RealtimeClient
{
    public const API_KEY_HEADER = 'X-WebSocket-API-Key';
    public const IDEMPOTENCY_HEADER = 'Idempotency-Key';

    /** No attempt is started with less time left than this (seconds). */
    private const MIN_ATTEMPT_S = 0.01;

    /** @var Closure(): Factory */
    private Closure $http;
    /** @var Closure(int): void */
    private Closure $sleep;
    /** @var Closure(): float */
    private Closure $now;

    /**
     * @param Factory|Closure(): Factory $http a factory, or a resolver called per request
     * @param Closure(int $ms): void|null $sleep back-off sleeper (default usleep)
     * @param Closure(): float|null $now monotonic clock in seconds (default hrtime)
     */
    public function __construct(
        Factory|Closure $http,
        private readonly ClientConfig $config,
        private readonly LoggerInterface $logger,
        ?Closure $sleep = null,
        ?Closure $now = null,
    ) {
        $this->http = $http instanceof Factory ? static fn (): Factory => $http : $http;
        $this->sleep = $sleep ?? static function (int $ms): void {
            usleep($ms * 1000);
        };
        $this->now = $now ?? static fn (): float => hrtime(true) / 1e9;
    }

    public function config(): ClientConfig
    {
        return $this->config;
    }

    /** Authenticated POST of a JSON body; the same idempotency key goes with every attempt. */
    public function post(string $path, array $body, ?string $idempotencyKey = null): ApiResponse
    {
        $headers = [self::API_KEY_HEADER => (string) $this->config->apiKey, 'Content-Type' => 'application/json'];
        if ($idempotencyKey !== null) {
            $headers[self::IDEMPOTENCY_HEADER] = $idempotencyKey;
        }

        return $this->call('POST', $path, $headers, $body, true, $this->config->retryAttempts);
    }

    /** Authenticated GET, retried like a POST (it changes nothing). */
    public function get(string $path, array $query = []): ApiResponse
    {
        $headers = [self::API_KEY_HEADER => (string) $this->config->apiKey];

        return $this->call('GET', $path, $headers, $query, true, $this->config->retryAttempts);
    }

    /** GET /health once and without the API key, as the guide's testConnection() does: a probe reports, it does not retry. */
    public function health(): ApiResponse
    {
        return $this->call('GET', '/health', [], [], false, 0);
    }

    /** A new idempotency key (UUID v4). */
    public static function newIdempotencyKey(): string
    {
        $bytes = random_bytes(16);
        $bytes[6] = chr(ord($bytes[6]) & 0x0F | 0x40);
        $bytes[8] = chr(ord($bytes[8]) & 0x3F | 0x80);

        return vsprintf('%s%s-%s-%s-%s-%s%s%s', str_split(bin2hex($bytes), 4));
    }

    /** Replaces the API key wherever it could appear in text that gets logged. */
    public function redact(string $text): string
    {
        $key = $this->config->apiKey;

        return $key === null ? $text : str_replace($key, '[redacted]', $text);
    }

    private function call(string $method, string $path, array $headers, array $payload, bool $authenticated, int $retries): ApiResponse
    {
        if ($this->config->baseUrl === '') {
            return ApiResponse::failed(ApiResponse::NOT_CONFIGURED, 'no server URL: set WEBSOCKET_SERVER_URL (or NODEJS_BROADCAST_URL)');
        }
        if ($authenticated && $this->config->apiKey === null) {
            return ApiResponse::failed(ApiResponse::NOT_CONFIGURED, 'WEBSOCKET_API_KEY is not set');
        }

        $url = $this->config->baseUrl.$path;
        $deadline = ($this->now)() + $this->config->timeout;
        for ($attempt = 1; ; $attempt++) {
            [$result, $retryAfter] = $this->attempt($method, $url, $headers, $payload, $deadline - ($this->now)(), $attempt);
            if ($attempt > $retries || ! $this->retriable($result)) {
                return $result;
            }

            $delayMs = $this->delayMs($attempt, $retryAfter);
            if (($this->now)() + $delayMs / 1000 + self::MIN_ATTEMPT_S >= $deadline) {
                $this->logger->notice('Realtime request not retried: the next attempt would pass the timeout', [
                    'method' => $method, 'path' => $path, 'attempt' => $attempt,
                    'status' => $result->status, 'error' => $result->error, 'retry_in_ms' => $delayMs,
                    'timeout_s' => $this->config->timeout,
                ]);

                return $result;
            }

            $this->logger->notice('Realtime request failed, retrying', [
                'method' => $method, 'path' => $path, 'attempt' => $attempt,
                'status' => $result->status, 'error' => $result->error, 'retry_in_ms' => $delayMs,
            ]);
            ($this->sleep)($delayMs);
        }
    }

    /** @return array{0: ApiResponse, 1: ?string} the result and its Retry-After header */
    private function attempt(string $method, string $url, array $headers, array $payload, float $remaining, int $attempt): array
    {
        $seconds = round(max($remaining, self::MIN_ATTEMPT_S), 3);
        try {
            $request = ($this->http)()
                ->withHeaders($headers)
                ->withOptions(['timeout' => $seconds, 'connect_timeout' => $seconds]);
            $response = $method === 'GET'
                ? $request->get($url, $payload === [] ? null : $payload)
                : $request->post($url, $payload);

            return [ApiResponse::answered($response->status(), $response->body(), $attempt), $response->header('Retry-After')];
        } catch (ConnectionException|TransferException $e) {
            return [ApiResponse::failed(ApiResponse::UNREACHABLE, $this->redact($e->getMessage()), $attempt), null];
        } catch (Throwable $e) {
            // Not the network: a body json_encode() refuses, a malformed URL. Retrying cannot help.
            return [ApiResponse::failed(ApiResponse::INVALID, $this->redact(get_class($e).': '.$e->getMessage()), $attempt), null];
        }
    }

    private function retriable(ApiResponse $result): bool
    {
        return $result->outcome === ApiResponse::UNREACHABLE
            || $result->status === 429
            || ($result->status !== null && $result->status >= 500);
    }

    /**
     * Retry-After (seconds or an HTTP date) when the server sent one, else exponential
     * back-off from retry_delay_ms with "equal jitter" (half fixed, half random).
     */
    private function delayMs(int $attempt, ?string $retryAfter): int
    {
        if ($retryAfter !== null && trim($retryAfter) !== '') {
            $retryAfter = trim($retryAfter);
            if (ctype_digit($retryAfter)) {
                return (int) $retryAfter * 1000;
            }
            $at = strtotime($retryAfter);
            if ($at !== false) {
                return max(0, ($at - time()) * 1000);
            }
        }

        $base = $this->config->retryDelayMs * 2 ** ($attempt - 1);
        $half = intdiv($base, 2);

        return $half + random_int(0, $base - $half);
    }
}
