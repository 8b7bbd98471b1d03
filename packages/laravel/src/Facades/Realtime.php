<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Facades;

use Illuminate\Support\Facades\Facade;
use MechaMap\Realtime\RealtimeNotificationService;

/**
 * @method static bool sendNotificationToUser(int $userId, array $notification, ?string $idempotencyKey = null)
 * @method static bool sendThreadUpdate(int $threadId, array $data, ?string $idempotencyKey = null)
 * @method static bool sendNewReply(int $threadId, array $reply, ?string $idempotencyKey = null)
 * @method static array testConnection()
 * @method static bool sendToUser(int|string $userId, string $event, array $data, ?string $idempotencyKey = null)
 * @method static bool sendToUsers(array $userIds, string $event, array $data, ?string $idempotencyKey = null)
 * @method static bool sendToThread(int|string $threadId, string $event, array $data, ?string $idempotencyKey = null)
 * @method static bool sendToChannel(string $channel, string $event, array $data, ?string $idempotencyKey = null)
 * @method static bool broadcastToAll(string $event, array $data, ?string $idempotencyKey = null)
 * @method static bool batch(array $broadcasts)
 * @method static array|null getUserPresence(int|string $userId)
 * @method static array|null getUsersPresence(array $userIds)
 * @method static array|null getOnlineUsers(int $limit = 100, ?string $cursor = null)
 * @method static array|null getThreadViewers(int|string $threadId)
 * @method static bool isUserOnline(int|string $userId)
 * @method static bool disconnectUser(int|string $userId)
 *
 * @see RealtimeNotificationService
 */
final class Realtime extends Facade
{
    protected static function getFacadeAccessor(): string
    {
        return RealtimeNotificationService::class;
    }
}
