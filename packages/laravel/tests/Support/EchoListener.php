<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Tests\Support;

/**
 * A real laravel-echo client (fixtures/echo-listener.js) on one node, as a Laravel frontend
 * configures it: bearer token for the node, auth headers for Laravel's /broadcasting/auth.
 */
final class EchoListener
{
    private function __construct(public readonly BackgroundProcess $process, public readonly string $socketId)
    {
    }

    /**
     * @param array<string, string> $headers Echo's auth.headers (the test app signs in X-User-Id)
     * @param list<array> $plan e.g. [['channel' => 'news'], ['private' => 'orders.5'], ['join' => 'chat.1']]
     */
    public static function connect(string $url, string $token, array $headers, array $plan): self
    {
        $process = new BackgroundProcess(
            ['node', Paths::fixture('echo-listener.js'), $url, $token, json_encode($headers ?: new \stdClass()), json_encode($plan)],
            [],
            null,
            'echo listener',
        );
        $ready = $process->waitFor(static fn (array $l): bool => isset($l['ready']) || isset($l['connect_error']), 10, 'ready');
        if (! isset($ready['socketId'])) {
            throw new \RuntimeException('echo listener could not connect: '.json_encode($ready));
        }

        return new self($process, $ready['socketId']);
    }

    /** Waits for a frame `$event` whose first argument (the channel) is `$channel` and matches. */
    public function waitForEvent(string $event, string $channel, ?callable $match = null, float $timeout = 5.0): array
    {
        return $this->process->waitFor(
            static fn (array $l): bool => ($l['event'] ?? null) === $event && ($l['args'][0] ?? null) === $channel
                && ($match === null || $match($l['args'][1] ?? null)),
            $timeout,
            "event \"$event\" on $channel",
        );
    }

    /** @return list<mixed> the data of every `$event` frame received on `$channel` so far */
    public function events(string $event, string $channel): array
    {
        $found = [];
        foreach ($this->process->jsonLines() as $line) {
            if (($line['event'] ?? null) === $event && ($line['args'][0] ?? null) === $channel) {
                $found[] = $line['args'][1] ?? null;
            }
        }

        return $found;
    }

    /** @return list<array> lines of the presence callbacks of kind here|joining|leaving */
    public function presence(string $kind): array
    {
        return array_values(array_filter($this->process->jsonLines(), static fn (array $l): bool => isset($l[$kind])));
    }

    public function waitForPresence(string $kind, ?callable $match = null, float $timeout = 5.0): array
    {
        return $this->process->waitFor(static fn (array $l): bool => isset($l[$kind]) && ($match === null || $match($l[$kind])), $timeout, $kind);
    }

    public function command(array $command): void
    {
        $this->process->send(json_encode($command));
    }

    public function stop(): void
    {
        $this->process->stop();
    }
}
