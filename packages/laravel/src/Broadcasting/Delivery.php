<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Broadcasting;

use stdClass;

/**
 * One broadcast of Laravel's as one request to the realtime API, the same on every attempt: one
 * channel is `POST /api/broadcast` under the idempotency key (with `X-Socket-ID` for `toOthers()`),
 * several are one batch whose items carry `<key>:<n>` as their ids (and `socket_id`), so a repeat
 * delivers nothing twice, whichever part went through the first time.
 */
final class Delivery
{
    private function __construct(
        public readonly string $path,
        public readonly array $body,
        public readonly ?string $idempotencyKey,
        public readonly ?string $socketId,
    ) {
    }

    /** @param list<string> $channels Laravel's names: `news`, `private-orders.5`, `presence-chat.1` */
    public static function of(string $event, array $channels, array $data, ?string $socketId, string $key): self
    {
        $data = $data === [] ? new stdClass() : $data;
        $channels = array_values(array_unique($channels));
        if (count($channels) === 1) {
            return new self(
                '/api/broadcast',
                ['event' => $event, 'to' => 'channel', 'channel' => $channels[0], 'data' => $data],
                $key,
                $socketId,
            );
        }
        $items = [];
        foreach ($channels as $index => $channel) {
            $item = ['event' => $event, 'to' => 'channel', 'channel' => $channel, 'data' => $data, 'id' => $key.':'.$index];
            $items[] = $socketId === null ? $item : $item + ['socket_id' => $socketId];
        }

        return new self('/api/broadcast/batch', ['broadcasts' => $items], null, $socketId);
    }

    /** For logs: the channels without the data. */
    public function channels(): array
    {
        return isset($this->body['broadcasts'])
            ? array_column($this->body['broadcasts'], 'channel')
            : [$this->body['channel']];
    }
}
