<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Presence;

use MechaMap\Realtime\Client\RealtimeClient;
use MechaMap\Realtime\Sending\Sender;
use Psr\Log\LoggerInterface;
use Throwable;

/** Presence queries and the kick: null (or false) and a log line when the cluster cannot be asked. */
final class PresenceQueries
{
    public function __construct(
        private readonly RealtimeClient $client,
        private readonly Sender $sender,
        private readonly LoggerInterface $logger,
        private readonly int $maxUserIds,
    ) {
    }

    /** @return array{user_id: string, online: bool, connections: int, last_seen: ?string}|null */
    public function user(int|string $userId): ?array
    {
        return $this->query('/api/presence/users/'.rawurlencode((string) $userId), [], ['user_id' => $userId]);
    }

    /**
     * @param list<int|string> $userIds
     * @return array<int|string, array{online: bool, connections: int}>|null
     */
    public function users(array $userIds): ?array
    {
        $users = [];
        foreach (array_chunk(array_values(array_unique($userIds, SORT_REGULAR)), $this->maxUserIds) as $chunk) {
            $answer = $this->query('/api/presence/users', ['ids' => implode(',', $chunk)], ['user_count' => count($chunk)]);
            if ($answer === null || ! is_array($answer['users'] ?? null)) {
                return null;
            }
            $users += $answer['users'];
        }

        return $users;
    }

    /** @return array{count: int, user_ids: list<string>, next_cursor: ?string}|null */
    public function online(int $limit, ?string $cursor): ?array
    {
        $query = ['limit' => $limit] + ($cursor === null ? [] : ['cursor' => $cursor]);

        return $this->query('/api/presence/online', $query, $query);
    }

    /** @return array{thread_id: string, count: int, user_ids: list<string>}|null */
    public function threadViewers(int|string $threadId): ?array
    {
        return $this->query('/api/threads/'.rawurlencode((string) $threadId).'/viewers', [], ['thread_id' => $threadId]);
    }

    public function disconnect(int|string $userId): bool
    {
        return $this->sender->guarded(['user_id' => $userId], function () use ($userId): bool {
            $response = $this->client->post('/api/users/'.rawurlencode((string) $userId).'/disconnect', []);
            if ($response->successful()) {
                return true;
            }
            $this->sender->logFailure($response, 'Realtime disconnect failed', 'Error disconnecting realtime user', ['user_id' => $userId]);

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
            $this->sender->logFailure($response, 'Realtime query failed', 'Error querying realtime server', ['path' => $path] + $context);
        } catch (Throwable $e) {
            $this->logger->error('Error querying realtime server', ['path' => $path] + $context + ['error' => $this->client->redact($e->getMessage())]);
        }

        return null;
    }
}
