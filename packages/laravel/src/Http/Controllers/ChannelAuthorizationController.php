<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Http\Controllers;

use Illuminate\Http\JsonResponse;
use Illuminate\Http\Request;
use MechaMap\Realtime\Channels\ChannelAuthorizer;
use Psr\Log\LoggerInterface;
use Throwable;

/**
 * `POST /api/realtime/authorize {user_id, channel}` from the realtime node (CHANNEL_AUTH=laravel).
 * Answers `200 {"allowed": bool}`; the node admits only `{"allowed": true}` and caches the
 * answer for a minute. A failing rule answers 503, which the node does not cache.
 */
final class ChannelAuthorizationController
{
    public function __invoke(Request $request, ChannelAuthorizer $authorizer, LoggerInterface $logger): JsonResponse
    {
        $body = $request->json()->all();
        $channel = $body['channel'] ?? null;
        $userId = $body['user_id'] ?? null;
        if (! is_string($channel) || $channel === '' || strlen($channel) > 200
            || ! ($userId === null || (is_string($userId) && $userId !== '') || is_int($userId))) {
            return new JsonResponse([
                'allowed' => false,
                'error' => 'validation_failed',
                'message' => 'expected {"user_id": string|int|null, "channel": string}',
            ], 422);
        }

        try {
            $allowed = $authorizer->authorize($userId === null ? null : (string) $userId, $channel);
        } catch (Throwable $e) {
            $logger->error('Realtime channel authorization failed', [
                'channel' => $channel, 'user_id' => $userId, 'error' => get_class($e).': '.$e->getMessage(),
            ]);
            report($e);

            return new JsonResponse(['allowed' => false, 'error' => 'authorizer_failed'], 503);
        }

        return new JsonResponse(['allowed' => $allowed]);
    }
}
