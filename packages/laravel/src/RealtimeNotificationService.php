<?php

declare(strict_types=1);

namespace MechaMap\Realtime;

use Illuminate\Http\Client\Factory;
use Illuminate\Support\Facades\Http;
use MechaMap\Realtime\Client\ApiResponse;
use MechaMap\Realtime\Client\ClientConfig;
use MechaMap\Realtime\Client\RealtimeClient;
use Psr\Log\LoggerInterface;
use stdClass;
use Throwable;

/**
 * Sends to the realtime cluster and asks it about presence.
 *
 * The integration guide's four methods keep their signatures, wire format and log lines;
 * everything else is added. No method throws: sends return false, queries return null,
 * testConnection() returns an error array, and each failure is logged with its context
 * (never the API key).
 */
class RealtimeNotificationService
{
    /** Limits of the node's API; larger inputs are split into several requests. */
    public const MAX_USER_IDS = 1000;
    public const MAX_BATCH = 100;

    private const LOGGED_BODY_LIMIT = 500;

    private readonly RealtimeClient $client;
    private readonly LoggerInterface $logger;
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
    }

    // ---------------------------------------------------------------- the guide's methods

    /** Send a notification to one user (`event: notification`, channel `user.{id}`). */
    public function sendNotificationToUser(int $userId, array $notification, ?string $idempotencyKey = null): bool
    {
        return $this->guarded(['user_id' => $userId], function () use ($userId, $notification, $idempotencyKey): bool {
            $response = $this->client->post('/api/broadcast', [
                'event' => $this->event('notification'),
                'to' => 'user',
                'user_id' => $userId,
                'data' => self::object($notification),
            ], $idempotencyKey ?? RealtimeClient::newIdempotencyKey());

            if ($response->successful()) {
                $this->logger->info('Realtime notification sent successfully', [
                    'user_id' => $userId,
                    'notification_id' => $notification['id'] ?? null,
                ]);

                return true;
            }

            // The guide's two failure lines, with the same context keys first.
            $this->logFailure($response, 'Failed to send realtime notification', 'Error sending realtime notification', [
                'user_id' => $userId,
            ]);

            return false;
        });
    }

    /** Send `thread_updated` to everyone subscribed to thread `{id}`. */
    public function sendThreadUpdate(int $threadId, array $data, ?string $idempotencyKey = null): bool
    {
        return $this->send([
            'event' => $this->event('thread_updated'),
            'to' => 'thread',
            'thread_id' => $threadId,
            'data' => self::object($data),
        ], $idempotencyKey, 'Error sending thread update', ['thread_id' => $threadId]);
    }

    /** Send `new_reply` to everyone subscribed to thread `{id}`. */
    public function sendNewReply(int $threadId, array $reply, ?string $idempotencyKey = null): bool
    {
        return $this->send([
            'event' => $this->event('new_reply'),
            'to' => 'thread',
            'thread_id' => $threadId,
            'data' => self::object($reply),
        ], $idempotencyKey, 'Error sending new reply notification', ['thread_id' => $threadId]);
    }

    /**
     * GET /health. `status` is "success" only for a 2xx whose body says `"status":"ok"`:
     * a node that answers `degraded` or `draining` cannot deliver, so it is an error here.
     *
     * @return array{status: string, message: string, data?: mixed, http_status?: int}
     */
    public function testConnection(): array
    {
        try {
            $response = $this->client->health();
            if ($response->status === null) {
                return ['status' => 'error', 'message' => 'Connection error: '.$response->error];
            }

            $serverStatus = $response->json['status'] ?? null;
            if ($response->successful() && $serverStatus === 'ok') {
                return ['status' => 'success', 'message' => 'Connection successful', 'data' => $response->json];
            }

            $result = [
                'status' => 'error',
                'message' => $response->successful()
                    ? sprintf('Server status is "%s", not "ok"', is_string($serverStatus) ? $serverStatus : 'unknown')
                    : 'Connection failed',
                'http_status' => $response->status,
            ];

            return $response->json === null ? $result : $result + ['data' => $response->json];
        } catch (Throwable $e) {
            return ['status' => 'error', 'message' => 'Connection error: '.$this->client->redact($e->getMessage())];
        }
    }

    // ---------------------------------------------------------------- more targets

    /** Send any event to one user's channel `user.{id}`. */
    public function sendToUser(int|string $userId, string $event, array $data, ?string $idempotencyKey = null): bool
    {
        return $this->send(
            ['event' => $event, 'to' => 'user', 'user_id' => $userId, 'data' => self::object($data)],
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
        $userIds = array_values(array_unique($userIds, SORT_REGULAR));
        $chunks = array_chunk($userIds, self::MAX_USER_IDS);
        $allSent = true;
        foreach ($chunks as $index => $chunk) {
            $key = $idempotencyKey === null ? null : self::chunkKey($idempotencyKey, $index, count($chunks));
            $allSent = $this->send(
                ['event' => $event, 'to' => 'users', 'user_ids' => $chunk, 'data' => self::object($data)],
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
        return $this->send(
            ['event' => $event, 'to' => 'thread', 'thread_id' => $threadId, 'data' => self::object($data)],
            $idempotencyKey,
            'Error sending realtime event to thread',
            ['thread_id' => $threadId],
        );
    }

    /** Send to a named channel (`<type>.<name>`, e.g. `forum.3`). */
    public function sendToChannel(string $channel, string $event, array $data, ?string $idempotencyKey = null): bool
    {
        return $this->send(
            ['event' => $event, 'to' => 'channel', 'channel' => $channel, 'data' => self::object($data)],
            $idempotencyKey,
            'Error sending realtime event to channel',
            ['channel' => $channel],
        );
    }

    /** Send to every connected socket. */
    public function broadcastToAll(string $event, array $data, ?string $idempotencyKey = null): bool
    {
        return $this->send(
            ['event' => $event, 'to' => 'all', 'data' => self::object($data)],
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
        return $this->guarded(['count' => count($broadcasts)], function () use ($broadcasts): bool {
            $items = [];
            foreach (array_values($broadcasts) as $index => $item) {
                if (! is_array($item)) {
                    $this->logger->error('Realtime batch not sent: every item must be an array', ['index' => $index]);

                    return false;
                }
                $item['id'] ??= RealtimeClient::newIdempotencyKey();
                $item['data'] = is_array($item['data'] ?? null) ? self::object($item['data']) : ($item['data'] ?? new stdClass());
                $items[] = $item;
            }

            $allSent = true;
            foreach (array_chunk($items, self::MAX_BATCH) as $index => $chunk) {
                $response = $this->client->post('/api/broadcast/batch', ['broadcasts' => $chunk]);
                if (! $response->successful()) {
                    $this->logFailure($response, 'Realtime batch rejected', 'Error sending realtime batch', [
                        'count' => count($chunk), 'chunk' => $index,
                    ]);
                    $allSent = false;
                }
            }

            return $allSent;
        });
    }

    // ---------------------------------------------------------------- presence and control

    /** @return array{user_id: string, online: bool, connections: int, last_seen: ?string}|null null when the server could not be asked */
    public function getUserPresence(int|string $userId): ?array
    {
        return $this->query('/api/presence/users/'.rawurlencode((string) $userId), [], ['user_id' => $userId]);
    }

    /**
     * Presence of many users, keyed by user id. Over 1000 ids go as several requests.
     *
     * @param list<int|string> $userIds
     * @return array<int|string, array{online: bool, connections: int}>|null
     */
    public function getUsersPresence(array $userIds): ?array
    {
        $users = [];
        foreach (array_chunk(array_values(array_unique($userIds, SORT_REGULAR)), self::MAX_USER_IDS) as $chunk) {
            $answer = $this->query('/api/presence/users', ['ids' => implode(',', $chunk)], ['user_count' => count($chunk)]);
            if ($answer === null || ! is_array($answer['users'] ?? null)) {
                return null;
            }
            $users += $answer['users'];
        }

        return $users;
    }

    /** @return array{count: int, user_ids: list<string>, next_cursor: ?string}|null one page of online users */
    public function getOnlineUsers(int $limit = 100, ?string $cursor = null): ?array
    {
        $query = ['limit' => $limit] + ($cursor === null ? [] : ['cursor' => $cursor]);

        return $this->query('/api/presence/online', $query, $query);
    }

    /** @return array{thread_id: string, count: int, user_ids: list<string>}|null */
    public function getThreadViewers(int|string $threadId): ?array
    {
        return $this->query('/api/threads/'.rawurlencode((string) $threadId).'/viewers', [], ['thread_id' => $threadId]);
    }

    /** True when the user has a connected socket; false when not, and when the server cannot be asked (logged). */
    public function isUserOnline(int|string $userId): bool
    {
        return ($this->getUserPresence($userId)['online'] ?? false) === true;
    }

    /** Disconnect every socket of a user on every node (a kick: clients do not reconnect by themselves). */
    public function disconnectUser(int|string $userId): bool
    {
        return $this->guarded(['user_id' => $userId], function () use ($userId): bool {
            $response = $this->client->post('/api/users/'.rawurlencode((string) $userId).'/disconnect', []);
            if ($response->successful()) {
                return true;
            }
            $this->logFailure($response, 'Realtime disconnect failed', 'Error disconnecting realtime user', ['user_id' => $userId]);

            return false;
        });
    }

    // ---------------------------------------------------------------- internals

    private function send(array $body, ?string $idempotencyKey, string $errorMessage, array $context): bool
    {
        $context = ['event' => $body['event'], 'to' => $body['to']] + $context;

        return $this->guarded($context, function () use ($body, $idempotencyKey, $errorMessage, $context): bool {
            $response = $this->client->post('/api/broadcast', $body, $idempotencyKey ?? RealtimeClient::newIdempotencyKey());
            if ($response->successful()) {
                return true;
            }
            $this->logFailure($response, 'Realtime broadcast rejected', $errorMessage, $context);

            return false;
        });
    }

    private function query(string $path, array $query, array $context): ?array
    {
        try {
            $response = $this->client->get($path, $query);
            if ($response->successful() && $response->json !== null) {
                return $response->json;
            }
            $this->logFailure($response, 'Realtime query failed', 'Error querying realtime server', ['path' => $path] + $context);
        } catch (Throwable $e) {
            $this->logger->error('Error querying realtime server', ['path' => $path] + $context + ['error' => $this->client->redact($e->getMessage())]);
        }

        return null;
    }

    /** Last line of defence of "never throws": the client already turns failures into results. */
    private function guarded(array $context, callable $work): bool
    {
        try {
            return $work();
        } catch (Throwable $e) {
            $this->logger->error('Unexpected error in realtime service', $context + [
                'error' => $this->client->redact(get_class($e).': '.$e->getMessage()),
            ]);

            return false;
        }
    }

    /**
     * An HTTP answer is a warning (the server said no); no answer or no configuration is an error.
     */
    private function logFailure(ApiResponse $response, string $rejectedMessage, string $errorMessage, array $context): void
    {
        if ($response->status !== null) {
            $this->logger->warning($rejectedMessage, $context + [
                'status' => $response->status,
                'response' => $this->client->redact(mb_strimwidth($response->body, 0, self::LOGGED_BODY_LIMIT, '...')),
                'error_code' => $response->errorCode(),
                'attempts' => $response->attempts,
            ]);

            return;
        }

        $message = $response->outcome === ApiResponse::NOT_CONFIGURED
            ? 'Realtime is not configured: '.$response->error
            : $errorMessage;
        $this->logger->error($message, $context + [
            'error' => $response->error,
            'error_code' => $response->outcome,
            'attempts' => $response->attempts,
        ]);
    }

    private function event(string $name): string
    {
        $event = $this->events[$name] ?? null;

        return is_string($event) && $event !== '' ? $event : $name;
    }

    /**
     * `data` must be a JSON object: an empty PHP array would encode as `[]` and be refused,
     * so it goes as `{}`. Non-empty arrays go unchanged (the guide's wire format).
     */
    private static function object(array $data): array|stdClass
    {
        return $data === [] ? new stdClass() : $data;
    }

    /** The caller's key when there is one request, a stable per-chunk key when there are several. */
    private static function chunkKey(string $key, int $index, int $chunks): string
    {
        return $chunks === 1 ? $key : hash('sha256', $key.'#'.$index);
    }
}
