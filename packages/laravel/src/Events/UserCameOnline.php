<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Events;

/** The user's first socket connected somewhere in the cluster (0 → 1). */
final class UserCameOnline extends PresenceChanged
{
}
