<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Events;

use DateTimeImmutable;

/**
 * A presence transition reported by the realtime cluster's webhook
 * (`POST /api/realtime/presence`). Dispatched once per webhook id.
 */
abstract class PresenceChanged
{
    public function __construct(
        /** The user's id as the node sends it (a string, e.g. "42"). */
        public readonly string $userId,
        /** When the transition happened on the cluster (ISO-8601), or null if the node sent none. */
        public readonly ?string $at,
        /** The webhook's id: unique per transition. */
        public readonly string $webhookId,
    ) {
    }

    public function occurredAt(): ?DateTimeImmutable
    {
        if ($this->at === null) {
            return null;
        }
        $parsed = date_create_immutable($this->at);

        return $parsed === false ? null : $parsed;
    }
}
