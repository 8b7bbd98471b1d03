<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Exceptions;

use RuntimeException;

/** A setting the package cannot work without is missing. Only the token issuer throws it. */
final class RealtimeConfigurationException extends RuntimeException
{
}
