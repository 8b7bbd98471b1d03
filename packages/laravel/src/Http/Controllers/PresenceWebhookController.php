<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Http\Controllers;

use Illuminate\Contracts\Cache\Factory as CacheFactory;
use Illuminate\Contracts\Config\Repository as Config;
use Illuminate\Contracts\Events\Dispatcher;
use Illuminate\Http\JsonResponse;
use Illuminate\Http\Request;
use MechaMap\Realtime\Events\UserCameOnline;
use MechaMap\Realtime\Events\UserWentOffline;
use Psr\Log\LoggerInterface;
use Throwable;

/**
 * `POST /api/realtime/presence {id, event, user_id, at}` from the realtime node.
 *
 * Dispatches UserCameOnline / UserWentOffline once per `id`: the node retries until it
 * gets a 2xx, so a repeat is answered 200 `duplicate` without dispatching again. When a
 * listener throws, the id is forgotten and the answer is a 500, so the node's retry
 * dispatches it again.
 */
final class PresenceWebhookController
{
    private const EVENTS = ['user_online' => UserCameOnline::class, 'user_offline' => UserWentOffline::class];

    public function __invoke(Request $request, Dispatcher $events, CacheFactory $cache, Config $config, LoggerInterface $logger): JsonResponse
    {
        $body = $request->json()->all();
        $problems = self::validate($body);
        if ($problems !== []) {
            return new JsonResponse(['success' => false, 'error' => 'validation_failed', 'details' => $problems], 422);
        }

        $store = $cache->store($config->get('websocket.webhooks.cache_store'));
        $seenKey = 'mechamap-realtime:presence-webhook:'.hash('sha256', $body['id']);
        $ttl = (int) $config->get('websocket.webhooks.dedupe_ttl', 600);
        if (! $store->add($seenKey, 1, max(1, $ttl))) {
            return new JsonResponse(['success' => true, 'duplicate' => true]);
        }

        $class = self::EVENTS[$body['event']];
        try {
            $events->dispatch(new $class((string) $body['user_id'], $body['at'] ?? null, $body['id']));
        } catch (Throwable $e) {
            $store->forget($seenKey);
            $logger->error('A presence listener failed; the realtime node will retry the webhook', [
                'webhook_id' => $body['id'], 'event' => $body['event'], 'user_id' => (string) $body['user_id'],
                'error' => get_class($e).': '.$e->getMessage(),
            ]);
            report($e);

            return new JsonResponse(['success' => false, 'error' => 'listener_failed'], 500);
        }

        return new JsonResponse(['success' => true]);
    }

    /** @return list<array{path: string, message: string}> */
    private static function validate(array $body): array
    {
        $problems = [];
        $id = $body['id'] ?? null;
        if (! is_string($id) || $id === '' || strlen($id) > 128) {
            $problems[] = ['path' => 'id', 'message' => 'must be a string of 1-128 characters'];
        }
        if (! is_string($body['event'] ?? null) || ! isset(self::EVENTS[$body['event']])) {
            $problems[] = ['path' => 'event', 'message' => 'must be "user_online" or "user_offline"'];
        }
        $userId = $body['user_id'] ?? null;
        if (! ((is_string($userId) && preg_match('/^[A-Za-z0-9_-]{1,64}$/D', $userId)) || (is_int($userId) && $userId > 0))) {
            $problems[] = ['path' => 'user_id', 'message' => 'must be a positive integer or 1-64 of [A-Za-z0-9_-]'];
        }
        if (isset($body['at']) && ! is_string($body['at'])) {
            $problems[] = ['path' => 'at', 'message' => 'must be an ISO-8601 string'];
        }

        return $problems;
    }
}
