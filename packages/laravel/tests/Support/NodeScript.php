<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Tests\Support;

/**
 * Small Node servers the tests drive: fixtures/recording-api.js and fixtures/flaky-proxy.js.
 * Both print {"listening": PORT} and have control endpoints that are not recorded.
 */
final class NodeScript
{
    private function __construct(public readonly BackgroundProcess $process, public readonly int $port)
    {
    }

    /** A stand-in for the node's API that records every request; answers are set by POST /__api/answers. */
    public static function recordingApi(): self
    {
        return self::start([Paths::fixture('recording-api.js'), '0'], 'recording API');
    }

    /**
     * A proxy in front of $upstreamPort that misbehaves for the first requests to /api/*:
     * steps "503" (answer 503, do not forward), "fwd503" (forward, then answer 503 anyway),
     * "429:S" (429 with Retry-After: S), "hang" (never answer); then it forwards everything.
     *
     * @param list<string> $plan
     */
    public static function flakyProxy(int $upstreamPort, array $plan): self
    {
        return self::start([Paths::fixture('flaky-proxy.js'), (string) $upstreamPort, implode(',', $plan)], 'flaky proxy');
    }

    private static function start(array $args, string $name): self
    {
        $process = new BackgroundProcess(array_merge(['node'], $args), [], null, $name);
        $line = $process->waitFor(static fn (array $l): bool => isset($l['listening']), 10, '{"listening":PORT}');

        return new self($process, (int) $line['listening']);
    }

    public function url(): string
    {
        return 'http://127.0.0.1:'.$this->port;
    }

    /** @return list<array> the recorded requests (recording API: /__api/requests, proxy: /__proxy/requests) */
    public function requests(string $controlPath): array
    {
        return json_decode((string) file_get_contents($this->url().$controlPath), true, 512, JSON_THROW_ON_ERROR);
    }

    public function post(string $path, array $body): void
    {
        $context = stream_context_create(['http' => [
            'method' => 'POST', 'header' => "Content-Type: application/json\r\n", 'content' => json_encode($body),
        ]]);
        file_get_contents($this->url().$path, false, $context);
    }

    public function delete(string $path): void
    {
        file_get_contents($this->url().$path, false, stream_context_create(['http' => ['method' => 'DELETE']]));
    }

    public function stop(): void
    {
        $this->process->stop();
    }
}
