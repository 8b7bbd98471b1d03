<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Tests\Support;

/**
 * The real realtime node (apps/realtime/dist/main.js), embedded mode, on a free port.
 * Started from an empty working directory so no stray .env is read.
 */
final class RealtimeNode
{
    public const API_KEY = 'feature-test-api-key-0123456789';
    public const JWT_SECRET = 'feature-test-jwt-secret-0123456789abcdef';

    private function __construct(public readonly BackgroundProcess $process, public readonly int $port, private readonly string $cwd)
    {
    }

    /** @param array<string, string> $env over the defaults below */
    public static function start(array $env = []): self
    {
        $cwd = Paths::tempDir('rt-node-');
        $process = new BackgroundProcess(['node', Paths::repo('apps/realtime/dist/main.js')], $env + [
            'NODE_ENV' => 'test',
            'PORT' => '0',
            'HOST' => '127.0.0.1',
            'LARAVEL_API_KEY' => self::API_KEY,
            'JWT_SECRET' => self::JWT_SECRET,
            'LOG_LEVEL' => 'info',
            'PRESENCE_GRACE_MS' => '200',
        ], $cwd, 'realtime node');
        $listening = $process->waitFor(static fn (array $l): bool => ($l['msg'] ?? null) === 'listening', 10, 'the "listening" log line');

        return new self($process, (int) $listening['port'], $cwd);
    }

    public function url(): string
    {
        return 'http://127.0.0.1:'.$this->port;
    }

    /**
     * Calls the node's API directly (not through the package), e.g. to send a sentinel.
     *
     * @return array{status: int, body: array|null}
     */
    public function api(string $method, string $path, ?array $body = null): array
    {
        $context = stream_context_create(['http' => [
            'method' => $method,
            'header' => "Content-Type: application/json\r\nX-WebSocket-API-Key: ".self::API_KEY."\r\n",
            'content' => $body === null ? '' : json_encode($body),
            'ignore_errors' => true,
            'timeout' => 5,
        ]]);
        $answer = file_get_contents($this->url().$path, false, $context);
        preg_match('#^HTTP/\S+ (\d+)#', $http_response_header[0] ?? '', $m);

        return ['status' => (int) ($m[1] ?? 0), 'body' => json_decode((string) $answer, true)];
    }

    /**
     * Sends a sentinel event to $channel and waits for $listener to get it. Events on one
     * channel arrive in order, so anything sent before it has arrived by then: counting
     * after this needs no sleep.
     */
    public function flush(SocketListener $listener, string $channel): void
    {
        $marker = bin2hex(random_bytes(6));
        $answer = $this->api('POST', '/api/broadcast', ['event' => 'sentinel', 'to' => 'channel', 'channel' => $channel, 'data' => ['marker' => $marker]]);
        if ($answer['status'] !== 200) {
            throw new \RuntimeException('sentinel refused: '.json_encode($answer));
        }
        $listener->waitForEvent('sentinel', static fn (array $l): bool => ($l['data']['marker'] ?? null) === $marker);
    }

    public function stop(): void
    {
        $this->process->stop();
        Paths::removeTree($this->cwd);
    }
}
