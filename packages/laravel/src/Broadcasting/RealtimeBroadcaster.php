<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Broadcasting;

use Closure;
use Illuminate\Broadcasting\BroadcastException;
use Illuminate\Broadcasting\Broadcasters\Broadcaster;
use Illuminate\Broadcasting\Broadcasters\UsePusherChannelConventions;
use Illuminate\Support\Arr;
use MechaMap\Realtime\Client\RealtimeClient;
use Psr\Log\LoggerInterface;
use Symfony\Component\HttpKernel\Exception\AccessDeniedHttpException;

/**
 * Laravel's broadcasting driver for the realtime cluster: `'driver' => 'realtime'` in
 * config/broadcasting.php (BROADCAST_DRIVER / BROADCAST_CONNECTION=realtime).
 *
 * - `ShouldBroadcast` events go through `POST /api/broadcast` under an idempotency key, so they get
 *   offsets, history and recovery; `toOthers()` goes as `X-Socket-ID` and the node skips that socket
 *   on every node.
 * - A broadcast the cluster cannot take right now (no answer, 429, 5xx) is handed to the app's queue
 *   (DeliverBroadcast: same request, same key, retried with back-off) when the app has one; without
 *   a queue it fails with a BroadcastException, as Laravel's other drivers do.
 * - `/broadcasting/auth` answers from `Broadcast::channel()` callbacks the way Laravel's Redis
 *   broadcaster does (which is what laravel-echo-server and the node's Echo support ask for):
 *   `true` for a private channel, `{"channel_data": {"user_id", "user_info"}}` for a presence one.
 */
final class RealtimeBroadcaster extends Broadcaster
{
    use UsePusherChannelConventions;

    /**
     * @param (Closure(DeliverBroadcast): void)|null $handOver queues a delivery; null when the app has no queue
     * @param Closure(Delivery): DeliverBroadcast $makeJob
     */
    public function __construct(
        private readonly RealtimeClient $client,
        private readonly LoggerInterface $logger,
        private readonly ?Closure $handOver,
        private readonly Closure $makeJob,
    ) {
    }

    public function auth($request)
    {
        $channelName = $this->normalizeChannelName((string) $request->channel_name);

        if (empty($request->channel_name) ||
            ($this->isGuardedChannel($request->channel_name) && ! $this->retrieveUser($request, $channelName))) {
            throw new AccessDeniedHttpException();
        }

        return parent::verifyUserCanAccessChannel($request, $channelName);
    }

    public function validAuthenticationResponse($request, $result)
    {
        if (is_bool($result)) {
            return json_encode($result);
        }

        $channelName = $this->normalizeChannelName((string) $request->channel_name);
        $user = $this->retrieveUser($request, $channelName);
        $broadcastIdentifier = method_exists($user, 'getAuthIdentifierForBroadcasting')
            ? $user->getAuthIdentifierForBroadcasting()
            : $user->getAuthIdentifier();

        return json_encode(['channel_data' => ['user_id' => $broadcastIdentifier, 'user_info' => $result]]);
    }

    public function broadcast(array $channels, $event, array $payload = [])
    {
        if ($channels === []) {
            return;
        }
        $socket = Arr::pull($payload, 'socket');
        $delivery = Delivery::of(
            (string) $event,
            $this->formatChannels($channels),
            $payload,
            is_string($socket) && $socket !== '' ? $socket : null,
            RealtimeClient::newIdempotencyKey(),
        );

        $response = $this->client->post($delivery->path, $delivery->body, $delivery->idempotencyKey, $delivery->socketId);
        if ($response->successful()) {
            return;
        }
        $context = [
            'event' => $event, 'channels' => $delivery->channels(),
            'status' => $response->status, 'error_code' => $response->errorCode(), 'error' => $response->error,
        ];
        if ($response->retriable() && $this->handOver !== null) {
            ($this->handOver)(($this->makeJob)($delivery));
            $this->logger->notice('Realtime broadcast queued for retry', $context);

            return;
        }
        $this->logger->error('Realtime broadcast failed', $context);

        throw new BroadcastException('Realtime broadcast failed: '.($response->errorCode() ?? 'no answer'));
    }
}
