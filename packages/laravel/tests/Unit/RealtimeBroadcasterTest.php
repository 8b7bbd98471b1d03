<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Tests\Unit;

use Illuminate\Auth\GenericUser;
use Illuminate\Broadcasting\BroadcastException;
use Illuminate\Broadcasting\PresenceChannel;
use Illuminate\Broadcasting\PrivateChannel;
use Illuminate\Container\Container;
use Illuminate\Http\Request;
use MechaMap\Realtime\Broadcasting\DeliverBroadcast;
use MechaMap\Realtime\Broadcasting\Delivery;
use MechaMap\Realtime\Broadcasting\RealtimeBroadcaster;
use MechaMap\Realtime\Tests\Support\FakeRealtimeApi;
use PHPUnit\Framework\TestCase;
use Symfony\Component\HttpKernel\Exception\AccessDeniedHttpException;

final class RealtimeBroadcasterTest extends TestCase
{
    private FakeRealtimeApi $api;
    /** @var list<DeliverBroadcast> */
    private array $queued = [];

    protected function setUp(): void
    {
        $this->api = new FakeRealtimeApi();
        Container::setInstance(new Container());
    }

    private function broadcaster(bool $withQueue = true): RealtimeBroadcaster
    {
        return new RealtimeBroadcaster(
            $this->api->client(['broadcasting' => ['retry_attempts' => 0]]),
            $this->api->logger,
            $withQueue ? function (DeliverBroadcast $job): void {
                $this->queued[] = $job;
            } : null,
            static fn (Delivery $delivery): DeliverBroadcast => new DeliverBroadcast($delivery, 7, [2, 4]),
        );
    }

    public function test_one_channel_is_one_broadcast_under_an_idempotency_key_with_to_others_as_x_socket_id(): void
    {
        $this->broadcaster()->broadcast([new PrivateChannel('orders.5')], 'App\\Events\\OrderShipped', ['id' => 5, 'socket' => 'abcDEF0123456789_-xy']);

        [$request] = $this->api->requests();
        $this->assertSame('http://127.0.0.1:3000/api/broadcast', $request->url());
        $this->assertSame(
            ['event' => 'App\\Events\\OrderShipped', 'to' => 'channel', 'channel' => 'private-orders.5', 'data' => ['id' => 5]],
            json_decode($request->body(), true),
        );
        $this->assertSame(['abcDEF0123456789_-xy'], $request->header('X-Socket-ID'));
        $this->assertMatchesRegularExpression('/^[0-9a-f-]{36}$/', $request->header('Idempotency-Key')[0]);
    }

    public function test_without_to_others_no_socket_goes_and_empty_data_is_an_object(): void
    {
        $this->broadcaster()->broadcast(['news'], 'posted', ['socket' => null]);

        [$request] = $this->api->requests();
        $this->assertSame([], $request->header('X-Socket-ID'));
        $this->assertSame('{"event":"posted","to":"channel","channel":"news","data":{}}', $request->body());
    }

    public function test_several_channels_are_one_batch_whose_items_carry_derived_ids_and_the_socket(): void
    {
        $this->broadcaster()->broadcast(['news', new PresenceChannel('chat.1')], 'posted', ['n' => 1, 'socket' => 'S']);

        [$request] = $this->api->requests();
        $this->assertSame('http://127.0.0.1:3000/api/broadcast/batch', $request->url());
        $items = json_decode($request->body(), true)['broadcasts'];
        $this->assertSame(['news', 'presence-chat.1'], array_column($items, 'channel'));
        $this->assertSame(['S', 'S'], array_column($items, 'socket_id'));
        [$first, $second] = array_column($items, 'id');
        $this->assertStringEndsWith(':0', $first);
        $this->assertSame(substr($first, 0, -2).':1', $second);
    }

    public function test_a_broadcast_the_cluster_cannot_take_goes_to_the_queue_as_the_same_request(): void
    {
        $this->api->answer([503, ['success' => false, 'error' => 'unavailable']]);

        $this->broadcaster()->broadcast(['news'], 'posted', ['n' => 1, 'socket' => 'S']);

        $this->assertCount(1, $this->queued);
        $job = $this->queued[0];
        [$request] = $this->api->requests();
        $this->assertSame($request->header('Idempotency-Key')[0], $job->delivery->idempotencyKey);
        $this->assertSame(json_decode($request->body(), true), json_decode(json_encode($job->delivery->body), true));
        $this->assertSame('S', $job->delivery->socketId);
        $this->assertSame([7, [2, 4]], [$job->tries, $job->backoff]);
        $this->assertSame('Realtime broadcast queued for retry', $this->api->logger->records[0]['message']);
    }

    public function test_without_a_queue_a_failed_broadcast_throws_as_laravels_drivers_do(): void
    {
        $this->api->answer('refused');

        $this->expectException(BroadcastException::class);
        $this->broadcaster(false)->broadcast(['news'], 'posted', []);
    }

    public function test_a_refusal_no_retry_can_change_throws_and_is_not_queued(): void
    {
        $this->api->answer([422, ['success' => false, 'error' => 'validation_failed']]);

        try {
            $this->broadcaster()->broadcast(['bad channel'], 'posted', []);
            $this->fail('no exception');
        } catch (BroadcastException $e) {
            $this->assertStringContainsString('validation_failed', $e->getMessage());
        }
        $this->assertSame([], $this->queued);
    }

    public function test_no_channel_sends_nothing(): void
    {
        $this->broadcaster()->broadcast([], 'posted', []);

        $this->assertSame([], $this->api->requests());
    }

    public function test_auth_answers_from_broadcast_channel_callbacks_as_laravels_redis_broadcaster_does(): void
    {
        $broadcaster = $this->broadcaster();
        $broadcaster->channel('orders.{id}', static fn ($user, $id) => (int) $id === 5);
        $broadcaster->channel('chat.{id}', static fn ($user) => ['name' => 'User '.$user->getAuthIdentifier()]);
        $user = new GenericUser(['id' => 42]);

        // auth() answers what Broadcast::auth() returns to /broadcasting/auth.
        $this->assertSame('true', $broadcaster->auth($this->authRequest('private-orders.5', $user)));
        $this->assertSame(
            '{"channel_data":{"user_id":42,"user_info":{"name":"User 42"}}}',
            $broadcaster->auth($this->authRequest('presence-chat.1', $user)),
        );

        foreach ([['private-orders.6', $user], ['private-orders.5', null], ['presence-nobody.1', $user]] as [$channel, $who]) {
            try {
                $broadcaster->auth($this->authRequest($channel, $who));
                $this->fail("$channel admitted");
            } catch (AccessDeniedHttpException) {
                $this->addToAssertionCount(1);
            }
        }
    }

    private function authRequest(string $channel, ?GenericUser $user): Request
    {
        $request = Request::create('/broadcasting/auth', 'POST', ['channel_name' => $channel, 'socket_id' => 'S']);
        $request->setUserResolver(static fn () => $user);

        return $request;
    }
}
