<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Facades;

use Illuminate\Support\Facades\Facade;
use MechaMap\Realtime\Channels\ChannelAuthorizer;

/**
 * @method static ChannelAuthorizer channel(string $pattern, callable|string $rule)
 * @method static ChannelAuthorizer resolveUsersUsing(callable $resolver)
 * @method static bool authorize(?string $userId, string $channel)
 *
 * @see ChannelAuthorizer
 */
final class RealtimeChannels extends Facade
{
    protected static function getFacadeAccessor(): string
    {
        return ChannelAuthorizer::class;
    }
}
