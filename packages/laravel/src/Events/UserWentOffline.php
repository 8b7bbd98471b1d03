<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Events;

/** The user has had no socket anywhere in the cluster for PRESENCE_GRACE_MS. */
final class UserWentOffline extends PresenceChanged
{
}
