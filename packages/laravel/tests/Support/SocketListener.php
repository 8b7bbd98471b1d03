<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Tests\Support;

/**
 * A real socket.io-client (fixtures/socket-listener.js) connected to a node with a JWT.
 * It prints {"ready":true,"acks":[...]} once its subscriptions are answered, then one
 * {"event","data","meta"} line per event it receives.
 */
final class SocketListener
{
    private function __construct(public readonly BackgroundProcess $process, public readonly array $ready)
    {
    }

    /** @param list<array> $subscriptions e.g. [['thread_id' => 7], ['channel' => 'forum.3']] */
    public static function connect(string $url, string $token, array $subscriptions = []): self
    {
        $process = new BackgroundProcess(
            ['node', Paths::fixture('socket-listener.js'), $url, $token, json_encode($subscriptions)],
            [],
            null,
            'socket listener',
        );
        $first = $process->waitFor(
            static fn (array $l): bool => isset($l['ready']) || isset($l['connect_error']),
            10,
            'ready or connect_error',
        );

        return new self($process, $first);
    }

    public function connected(): bool
    {
        return ($this->ready['ready'] ?? false) === true;
    }

    /** @return list<array> the subscribe acks, in the order asked */
    public function acks(): array
    {
        return $this->ready['acks'] ?? [];
    }

    /** @param (callable(array): bool)|null $match on the whole line {event, data, meta} */
    public function waitForEvent(string $event, ?callable $match = null, float $timeout = 5.0): array
    {
        return $this->process->waitFor(
            static fn (array $l): bool => ($l['event'] ?? null) === $event && ($match === null || $match($l)),
            $timeout,
            "event \"$event\"",
        );
    }

    /** @return list<array> the received events named $event so far */
    public function events(string $event): array
    {
        return array_values(array_filter($this->process->jsonLines(), static fn (array $l): bool => ($l['event'] ?? null) === $event));
    }

    public function waitForDisconnect(float $timeout = 5.0): array
    {
        return $this->process->waitFor(static fn (array $l): bool => isset($l['disconnect']), $timeout, 'disconnect');
    }

    public function stop(): void
    {
        $this->process->stop();
    }
}
