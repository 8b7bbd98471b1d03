<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Tests\Support;

use GuzzleHttp\Exception\ConnectException;
use Illuminate\Http\Client\Factory;
use Illuminate\Http\Client\Request;
use MechaMap\Realtime\Client\ClientConfig;
use MechaMap\Realtime\Client\RealtimeClient;

/**
 * Laravel's own Http::fake() machinery as the realtime API: answers are queued, requests
 * are recorded, and time is a fake clock that an answer may advance (`slow()`): a slow server.
 */
final class FakeRealtimeApi
{
    public const KEY = 'unit-test-api-key-0123456789';

    public readonly Factory $http;
    public readonly RecordingLogger $logger;
    public float $now = 1000.0;
    /** Seconds each answer takes on the fake clock. */
    private float $answerTakes = 0.0;
    /** @var list<array|string|callable> */
    private array $answers = [];
    /** @var list<Request> every request that reached the fake, refused ones included */
    private array $seen = [];
    /** The answer once the queue is empty. */
    private array|string $default = [200, ['success' => true]];

    public function __construct()
    {
        $this->http = new Factory();
        $this->logger = new RecordingLogger();
        $this->http->fake(function (Request $request) {
            $this->seen[] = $request;
            $this->now += $this->answerTakes;
            $answer = array_shift($this->answers) ?? $this->default;
            if (is_callable($answer)) {
                $answer = $answer($request);
            }
            if ($answer === 'refused') {
                throw new ConnectException('cURL error 7: Failed to connect to 127.0.0.1 port 9: Connection refused', $request->toPsrRequest());
            }
            [$status, $body, $headers] = $answer + [2 => []];

            return Factory::response($body, $status, $headers);
        });
    }

    /**
     * Queue answers: [status, body(, headers)], or 'refused' for a connection error.
     *
     * @param array|string|callable ...$answers
     */
    public function answer(array|string|callable ...$answers): self
    {
        array_push($this->answers, ...$answers);

        return $this;
    }

    /** Every answer takes this long on the fake clock. */
    public function slow(float $seconds): self
    {
        $this->answerTakes = $seconds;

        return $this;
    }

    public function answerAlways(array|string $answer): self
    {
        $this->default = $answer;

        return $this;
    }

    public function client(array $config = []): RealtimeClient
    {
        return new RealtimeClient(
            $this->http,
            ClientConfig::fromArray(array_replace_recursive([
                'server' => ['url' => 'http://127.0.0.1:3000'],
                'api_key' => self::KEY,
                'broadcasting' => ['timeout' => 10, 'retry_attempts' => 3],
            ], $config)),
            $this->logger,
            fn (): float => $this->now,
        );
    }

    /** @return list<Request> */
    public function requests(): array
    {
        return $this->seen;
    }

    /** @return list<array> the JSON bodies sent, decoded */
    public function bodies(): array
    {
        return array_map(static fn (Request $r): array => json_decode($r->body(), true), $this->requests());
    }
}
