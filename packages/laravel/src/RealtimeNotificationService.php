<?php

declare(strict_types=1);

namespace MechaMap\Realtime;

use Illuminate\Http\Client\Factory;
use Illuminate\Support\Facades\Http;
use MechaMap\Realtime\Client\ClientConfig;
use MechaMap\Realtime\Client\ConnectionCheck;
use MechaMap\Realtime\Client\RealtimeClient;
use MechaMap\Realtime\Presence\PresenceQueries;
use MechaMap\Realtime\Sending\Sender;
use Psr\Log\LoggerInterface;

/**
 * The integration guide's service, kept as a thin layer: its four methods keep their signatures,
 * wire format and log lines, and the added targets and queries sit beside them. The work is done by
 * Sending\Sender, Presence\PresenceQueries and Client\ConnectionCheck. No method throws: sends
 * return false, queries return null, testConnection() returns an error array, each failure logged.
 *
 * Sends run inside the caller's request and never sleep there (Client\RealtimeClient); for
 * Laravel's own broadcasting, the `realtime` driver (Broadcasting\RealtimeBroadcaster) hands
 * failed broadcasts to the queue instead.
 */
class RealtimeNotificationService
{
    /** Limits of the node's API; larger inputs are split into several requests. */
    public const MAX_USER_IDS = 1000;
    public const MAX_BATCH = 100;

    private readonly RealtimeClient $client;
    private readonly LoggerInterface $logger;
    private readonly Sender $sender;
    private readonly PresenceQueries $presence;
    /** @var array<string, string> */
    private readonly array $events;

    /**
     * Every argument is optional so that the guide's `new RealtimeNotificationService()`
     * still works inside a Laravel app; the service provider passes them in.
     *
     * @param array<string, string>|null $events config('websocket.events')
     */
    public function __construct(?RealtimeClient $client = null, ?LoggerInterface $logger = null, ?array $events = null)
    {
        $this->logger = $logger ?? app(LoggerInterface::class);
        $this->client = $client ?? new RealtimeClient(
            static fn (): Factory => Http::getFacadeRoot(),
            ClientConfig::fromArray((array) config('websocket', [])),
            $this->logger,
        );
        $this->events = $events ?? (array) config('websocket.events', []);
        $this->sender = new Sender($this->client, $this->logger);
        $this->presence = new PresenceQueries($this->client, $this->sender, $this->logger, self::MAX_USER_IDS);
    }

    // ---------------------------------------------------------------- the guide's methods

    /** Send a notification to one user (`event: notification`, channel `user.{id}`). */
    public function sendNotificationToUser(int $userId, array $notification, ?string $idempotencyKey = null): bool
    {
        return $this->sender->guarded(['user_id' => $userId], function () use ($userId, $notification, $idempotencyKey): bool {
            $response = $this->client->post('/api/broadcast', [
                'event' => $this->event('notification'),
                'to' => 'user',
                'user_id' => $userId,
                'data' => Sender::object($notification),
            ], $idempotencyKey ?? RealtimeClient::newIdempotencyKey());

            if ($response->successful()) {
                $this->logger->info('Realtime notification sent successfully', [
                    'user_id' => $userId,
                    'notification_id' => $notification['id'] ?? null,
                ]);

                return true;
            }

            // The guide's two failure lines, with the same context keys first.
            $this->sender->logFailure($response, 'Failed to send realtime notification', 'Error sending realtime notification', [
                'user_id' => $userId,
            ]);

            return false;
        });
    }

    /** Send `thread_updated` to everyone subscribed to thread `{id}`. */
    public function sendThreadUpdate(int $threadId, array $data, ?string $idempotencyKey = null): bool
    {
        return $this->sender->send(
            ['event' => $this->event('thread_updated'), 'to' => 'thread', 'thread_id' => $threadId, 'data' => Sender::object($data)],
            $idempotencyKey,
            'Error sending thread update',
            ['thread_id' => $threadId],
        );
    }

    /** Send `new_reply` to everyone subscribed to thread `{id}`. */
    public function sendNewReply(int $threadId, array $reply, ?string $idempotencyKey = null): bool
    {
        return $this->sender->send(
            ['event' => $this->event('new_reply'), 'to' => 'thread', 'thread_id' => $threadId, 'data' => Sender::object($reply)],
            $idempotencyKey,
            'Error sending new reply notification',
            ['thread_id' => $threadId],
        );
    }

    /** @return array{status: string, message: string, data?: mixed, http_status?: int} */
    public function testConnection(): array
    {
        return (new ConnectionCheck($this->client))->run();
    }

    // ---------------------------------------------------------------- more targets

    /** Send any event to one user's channel `user.{id}`. */
    public function sendToUser(int|string $userId, string $event, array $data, ?string $idempotencyKey = null): bool
    {
        return $this->sender->send(
            ['event' => $event, 'to' => 'user', 'user_id' => $userId, 'data' => Sender::object($data)],
            $idempotencyKey,
            'Error sending realtime event to user',
            ['user_id' => $userId],
        );
    }

    /**
     * Send one event to many users. Lists over 1000 ids go as several requests; the result is
     * true when every one of them was accepted. An empty list sends nothing and is true.
     *
     * @param list<int|string> $userIds
     */
    public function sendToUsers(array $userIds, string $event, array $data, ?string $idempotencyKey = null): bool
    {
        $chunks = array_chunk(array_values(array_unique($userIds, SORT_REGULAR)), self::MAX_USER_IDS);
        $allSent = true;
        foreach ($chunks as $index => $chunk) {
            $key = $idempotencyKey === null ? null : self::chunkKey($idempotencyKey, $index, count($chunks));
            $allSent = $this->sender->send(
                ['event' => $event, 'to' => 'users', 'user_ids' => $chunk, 'data' => Sender::object($data)],
                $key,
                'Error sending realtime event to users',
                ['user_count' => count($chunk), 'chunk' => $index],
            ) && $allSent;
        }

        return $allSent;
    }

    /** Send any event to thread `{id}`'s channel. */
    public function sendToThread(int|string $threadId, string $event, array $data, ?string $idempotencyKey = null): bool
    {
        return $this->sender->send(
            ['event' => $event, 'to' => 'thread', 'thread_id' => $threadId, 'data' => Sender::object($data)],
            $idempotencyKey,
            'Error sending realtime event to thread',
            ['thread_id' => $threadId],
        );
    }

    /** Send to a named channel: ours (`forum.3`) or Laravel's (`private-orders.5`, for Echo clients). */
    public function sendToChannel(string $channel, string $event, array $data, ?string $idempotencyKey = null): bool
    {
        return $this->sender->send(
            ['event' => $event, 'to' => 'channel', 'channel' => $channel, 'data' => Sender::object($data)],
            $idempotencyKey,
            'Error sending realtime event to channel',
            ['channel' => $channel],
        );
    }

    /** Send to every connected socket. */
    public function broadcastToAll(string $event, array $data, ?string $idempotencyKey = null): bool
    {
        return $this->sender->send(
            ['event' => $event, 'to' => 'all', 'data' => Sender::object($data)],
            $idempotencyKey,
            'Error sending realtime event to everyone',
            [],
        );
    }

    /**
     * Several broadcasts in one request each 100: items are the API's bodies, e.g.
     * `['event' => 'new_reply', 'to' => 'thread', 'thread_id' => 7, 'data' => [...]]`.
     * Each item without an `id` gets one, so a retried batch delivers nothing twice.
     * True when every item was accepted. The node checks every item before sending any.
     *
     * @param list<array<string, mixed>> $broadcasts
     */
    public function batch(array $broadcasts): bool
    {
        return $this->sender->batch($broadcasts, self::MAX_BATCH);
    }

    // ---------------------------------------------------------------- presence and control

    /** @return array{user_id: string, online: bool, connections: int, last_seen: ?string}|null null when the server could not be asked */
    public function getUserPresence(int|string $userId): ?array
    {
        return $this->presence->user($userId);
    }

    /**
     * Presence of many users, keyed by user id. Over 1000 ids go as several requests.
     *
     * @param list<int|string> $userIds
     * @return array<int|string, array{online: bool, connections: int}>|null
     */
    public function getUsersPresence(array $userIds): ?array
    {
        return $this->presence->users($userIds);
    }

    /** @return array{count: int, user_ids: list<string>, next_cursor: ?string}|null one page of online users */
    public function getOnlineUsers(int $limit = 100, ?string $cursor = null): ?array
    {
        return $this->presence->online($limit, $cursor);
    }

    /** @return array{thread_id: string, count: int, user_ids: list<string>}|null */
    public function getThreadViewers(int|string $threadId): ?array
    {
        return $this->presence->threadViewers($threadId);
    }

    /** True when the user has a connected socket; false when not, and when the server cannot be asked (logged). */
    public function isUserOnline(int|string $userId): bool
    {
        return ($this->presence->user($userId)['online'] ?? false) === true;
    }

    /** Disconnect every socket of a user on every node (a kick: clients do not reconnect by themselves). */
    public function disconnectUser(int|string $userId): bool
    {
        return $this->presence->disconnect($userId);
    }

    private function event(string $name): string
    {
        $event = $this->events[$name] ?? null;

        return is_string($event) && $event !== '' ? $event : $name;
    }

    /** The caller's key when there is one request, a stable per-chunk key when there are several. */
    private static function chunkKey(string $key, int $index, int $chunks): string
    {
        return $chunks === 1 ? $key : hash('sha256', $key.'#'.$index);
    }
}
