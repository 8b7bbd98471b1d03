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
 * HTTP transport to the realtime API: one time budget per call, and no exceptions out.
 *
 * A call runs inside the caller's request, so it never sleeps: connection errors and 5xx are
 * retried at once (behind nginx the next attempt may reach a healthy node), up to
 * `retry_attempts`, while the budget lasts; a 429 is not waited for here (its Retry-After is in the
 * answer). Waiting and backing off is the queue's job (Broadcasting\DeliverBroadcast).
 *
 * Requests go through Laravel's HTTP client (so an app's Http::fake() sees them) and
 * keep the integration guide's headers; POSTs may add an Idempotency-Key and X-Socket-ID.
 */
final class RealtimeClient
{
    public const API_KEY_HEADER = 'X-WebSocket-API-Key';
    public const IDEMPOTENCY_HEADER = 'Idempotency-Key';
    /** Laravel's `toOthers()`: the socket that must not get the broadcast. */
    public const SOCKET_HEADER = 'X-Socket-ID';

    /** No attempt is started with less time left than this (seconds). */
    private const MIN_ATTEMPT_S = 0.01;

    /** @var Closure(): Factory */
    private Closure $http;
    /** @var Closure(): float */
    private Closure $now;

    /**
     * @param Factory|Closure(): Factory $http a factory, or a resolver called per request
     * @param Closure(): float|null $now monotonic clock in seconds (default hrtime)
     */
    public function __construct(
        Factory|Closure $http,
        private readonly ClientConfig $config,
        private readonly LoggerInterface $logger,
        ?Closure $now = null,
    ) {
        $this->http = $http instanceof Factory ? static fn (): Factory => $http : $http;
        $this->now = $now ?? static fn (): float => hrtime(true) / 1e9;
    }

    public function config(): ClientConfig
    {
        return $this->config;
    }

    /** Authenticated POST of a JSON body; the same idempotency key goes with every attempt. */
    public function post(string $path, array $body, ?string $idempotencyKey = null, ?string $socketId = null): ApiResponse
    {
        $headers = [self::API_KEY_HEADER => (string) $this->config->apiKey, 'Content-Type' => 'application/json'];
        if ($idempotencyKey !== null) {
            $headers[self::IDEMPOTENCY_HEADER] = $idempotencyKey;
        }
        if ($socketId !== null && $socketId !== '') {
            $headers[self::SOCKET_HEADER] = $socketId;
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
            $result = $this->attempt($method, $url, $headers, $payload, $deadline - ($this->now)(), $attempt);
            if ($attempt > $retries || ! $this->retriableAtOnce($result)) {
                return $result;
            }
            if (($this->now)() + self::MIN_ATTEMPT_S >= $deadline) {
                $this->logger->notice('Realtime request not retried: the timeout is used up', [
                    'method' => $method, 'path' => $path, 'attempt' => $attempt,
                    'status' => $result->status, 'error' => $result->error, 'timeout_s' => $this->config->timeout,
                ]);

                return $result;
            }
            $this->logger->notice('Realtime request failed, retrying at once', [
                'method' => $method, 'path' => $path, 'attempt' => $attempt,
                'status' => $result->status, 'error' => $result->error,
            ]);
        }
    }

    private function attempt(string $method, string $url, array $headers, array $payload, float $remaining, int $attempt): ApiResponse
    {
        $seconds = round(max($remaining, self::MIN_ATTEMPT_S), 3);
        try {
            $request = ($this->http)()
                ->withHeaders($headers)
                ->withOptions(['timeout' => $seconds, 'connect_timeout' => $seconds]);
            $response = $method === 'GET'
                ? $request->get($url, $payload === [] ? null : $payload)
                : $request->post($url, $payload);

            return ApiResponse::answered($response->status(), $response->body(), $attempt, $response->header('Retry-After'));
        } catch (ConnectionException|TransferException $e) {
            return ApiResponse::failed(ApiResponse::UNREACHABLE, $this->redact($e->getMessage()), $attempt);
        } catch (Throwable $e) {
            // Not the network: a body json_encode() refuses, a malformed URL. Retrying cannot help.
            return ApiResponse::failed(ApiResponse::INVALID, $this->redact(get_class($e).': '.$e->getMessage()), $attempt);
        }
    }

    /** No answer or a 5xx: another attempt (another node) may do. A 429 asks to wait, which a request must not. */
    private function retriableAtOnce(ApiResponse $result): bool
    {
        return $result->outcome === ApiResponse::UNREACHABLE
            || ($result->status !== null && $result->status >= 500);
    }
}
