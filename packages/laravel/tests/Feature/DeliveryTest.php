<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Tests\Feature;

use App\Models\User;
use Illuminate\Foundation\Application;
use MechaMap\Realtime\Auth\RealtimeTokenIssuer;
use MechaMap\Realtime\Facades\Realtime;
use MechaMap\Realtime\RealtimeNotificationService;
use MechaMap\Realtime\Tests\Support\FeatureTestCase;
use MechaMap\Realtime\Tests\Support\RealtimeNode;
use MechaMap\Realtime\Tests\Support\SocketListener;

/**
 * Every method of the package, called in a real Laravel 8 app, against a real node, with
 * real socket.io clients on the other end.
 */
final class DeliveryTest extends FeatureTestCase
{
    private static RealtimeNode $node;
    /** User 42, in thread.7 and forum.3, connected with a token from the app's issuer. */
    private static SocketListener $alice;
    /** User 43, in no extra channel. */
    private static SocketListener $bob;

    private Application $app;
    private RealtimeNotificationService $realtime;

    public static function setUpBeforeClass(): void
    {
        self::$node = self::classNode();
        $app = self::bootPackageApp(['websocket.jwt.secret' => RealtimeNode::JWT_SECRET]);
        $token = $app->make(RealtimeTokenIssuer::class)->issue(new User(['id' => 42]));
        self::$alice = SocketListener::connect(self::$node->url(), $token, [['thread_id' => 7], ['channel' => 'forum.3']]);
        self::deferForClass(self::$alice->stop(...));
        self::$bob = self::classListener(self::$node, 43);
    }

    protected function setUp(): void
    {
        $this->app = self::bootPackageApp([
            'websocket.server.url' => self::$node->url(),
            'websocket.api_key' => RealtimeNode::API_KEY,
            'websocket.broadcasting.timeout' => 5,
        ]);
        $this->realtime = $this->app->make(RealtimeNotificationService::class);
    }

    private static function marker(): string
    {
        return 'm-'.bin2hex(random_bytes(5));
    }

    private static function withMarker(string $marker): callable
    {
        return static fn (array $line): bool => ($line['data']['marker'] ?? null) === $marker;
    }

    public function test_a_token_from_the_apps_issuer_connects_and_joins_its_channels(): void
    {
        $this->assertTrue(self::$alice->connected(), json_encode(self::$alice->ready));
        $this->assertSame([true, true], array_column(self::$alice->acks(), 'ok'));
    }

    public function test_send_notification_to_user_reaches_only_that_user(): void
    {
        $marker = self::marker();
        $notification = ['id' => 'notif_1', 'title' => 'New reply', 'marker' => $marker, 'data' => ['url' => 'http://127.0.0.1/t/7']];

        $this->assertTrue($this->realtime->sendNotificationToUser(42, $notification));

        $event = self::$alice->waitForEvent('notification', self::withMarker($marker));
        $this->assertSame($notification, $event['data']);
        $this->assertSame('user.42', $event['meta']['channel']);
        self::$node->flush(self::$bob, 'user.43');
        $this->assertSame([], array_filter(self::$bob->events('notification'), self::withMarker($marker)));
    }

    public function test_send_thread_update_reaches_the_threads_subscribers(): void
    {
        $marker = self::marker();

        $this->assertTrue($this->realtime->sendThreadUpdate(7, ['thread_id' => 7, 'title' => 'Edited', 'marker' => $marker]));

        $event = self::$alice->waitForEvent('thread_updated', self::withMarker($marker));
        $this->assertSame('thread.7', $event['meta']['channel']);
    }

    public function test_send_new_reply_reaches_the_threads_subscribers(): void
    {
        $marker = self::marker();

        $this->assertTrue($this->realtime->sendNewReply(7, ['reply_id' => 9, 'content' => 'Hello', 'marker' => $marker]));

        $this->assertSame('Hello', self::$alice->waitForEvent('new_reply', self::withMarker($marker))['data']['content']);
    }

    public function test_send_to_user_and_send_to_thread_carry_any_event(): void
    {
        $marker = self::marker();

        $this->assertTrue($this->realtime->sendToUser(43, 'direct_message', ['marker' => $marker]));
        $this->assertTrue($this->realtime->sendToThread(7, 'typing', ['marker' => $marker]));

        $this->assertSame('user.43', self::$bob->waitForEvent('direct_message', self::withMarker($marker))['meta']['channel']);
        $this->assertSame('thread.7', self::$alice->waitForEvent('typing', self::withMarker($marker))['meta']['channel']);
    }

    public function test_send_to_users_reaches_each_listed_user(): void
    {
        $marker = self::marker();

        $this->assertTrue($this->realtime->sendToUsers([42, 43, 44], 'digest', ['marker' => $marker]));

        $this->assertSame('user.42', self::$alice->waitForEvent('digest', self::withMarker($marker))['meta']['channel']);
        $this->assertSame('user.43', self::$bob->waitForEvent('digest', self::withMarker($marker))['meta']['channel']);
    }

    public function test_broadcast_to_all_reaches_every_socket(): void
    {
        $marker = self::marker();

        $this->assertTrue($this->realtime->broadcastToAll('maintenance', ['marker' => $marker]));

        self::$alice->waitForEvent('maintenance', self::withMarker($marker));
        self::$bob->waitForEvent('maintenance', self::withMarker($marker));
        $this->addToAssertionCount(2);
    }

    public function test_send_to_channel_reaches_the_channels_subscribers_only(): void
    {
        $marker = self::marker();

        $this->assertTrue($this->realtime->sendToChannel('forum.3', 'new_thread', ['marker' => $marker]));

        $this->assertSame('forum.3', self::$alice->waitForEvent('new_thread', self::withMarker($marker))['meta']['channel']);
        self::$node->flush(self::$bob, 'user.43');
        $this->assertSame([], array_filter(self::$bob->events('new_thread'), self::withMarker($marker)));
    }

    public function test_a_batch_is_delivered_in_order(): void
    {
        $marker = self::marker();

        $this->assertTrue($this->realtime->batch([
            ['event' => 'step', 'to' => 'thread', 'thread_id' => 7, 'data' => ['marker' => $marker, 'n' => 1]],
            ['event' => 'step', 'to' => 'user', 'user_id' => 42, 'data' => ['marker' => $marker, 'n' => 2]],
            ['event' => 'step', 'to' => 'channel', 'channel' => 'forum.3', 'data' => ['marker' => $marker, 'n' => 3]],
        ]));

        self::$alice->waitForEvent('step', static fn (array $l): bool => ($l['data']['marker'] ?? null) === $marker && $l['data']['n'] === 3);
        $steps = array_values(array_filter(self::$alice->events('step'), self::withMarker($marker)));
        $this->assertSame([1, 2, 3], array_map(static fn (array $l): int => $l['data']['n'], $steps));
    }

    public function test_the_facade_and_the_guides_class_name_reach_the_same_service(): void
    {
        $marker = self::marker();

        $this->assertSame($this->realtime, $this->app->make('App\\Services\\RealtimeNotificationService'));
        $this->assertTrue(Realtime::sendNotificationToUser(42, ['marker' => $marker]));

        self::$alice->waitForEvent('notification', self::withMarker($marker));
    }

    public function test_the_guides_new_realtime_notification_service_still_works(): void
    {
        $marker = self::marker();

        // The guide's provider builds the service with `new RealtimeNotificationService()`.
        $this->assertTrue((new RealtimeNotificationService())->sendNotificationToUser(42, ['marker' => $marker]));

        self::$alice->waitForEvent('notification', self::withMarker($marker));
    }

    public function test_presence_queries_see_the_connected_users(): void
    {
        $alice = $this->realtime->getUserPresence(42);
        $this->assertSame(['user_id' => '42', 'online' => true, 'connections' => 1], array_intersect_key($alice, array_flip(['user_id', 'online', 'connections'])));

        $many = $this->realtime->getUsersPresence([42, 43, 999]);
        $this->assertTrue($many['42']['online']);
        $this->assertTrue($many['43']['online']);
        $this->assertSame(['online' => false, 'connections' => 0], $many['999']);

        $online = $this->realtime->getOnlineUsers(100);
        $this->assertContains('42', $online['user_ids']);
        $this->assertContains('43', $online['user_ids']);

        $this->assertSame(['42'], $this->realtime->getThreadViewers(7)['user_ids']);
        $this->assertTrue($this->realtime->isUserOnline(43));
        $this->assertFalse($this->realtime->isUserOnline(999));
    }

    public function test_disconnect_user_kicks_every_socket_of_that_user(): void
    {
        $carol = $this->listener(self::$node, 44);
        $this->assertTrue($this->realtime->isUserOnline(44));

        $this->assertTrue($this->realtime->disconnectUser(44));

        $this->assertSame('io server disconnect', $carol->waitForDisconnect()['disconnect']);
    }

    public function test_the_node_refuses_expired_and_foreign_tokens_from_the_issuer(): void
    {
        $expired = SocketListener::connect(self::$node->url(), self::tokenFor(45, -120));
        $this->defer($expired->stop(...));
        $forged = SocketListener::connect(self::$node->url(), self::tokenFor(45, null, 'some-other-secret-0123456789abcdef'));
        $this->defer($forged->stop(...));

        $this->assertSame('token_expired', $expired->ready['data']['code'] ?? null, json_encode($expired->ready));
        $this->assertSame('token_invalid', $forged->ready['data']['code'] ?? null, json_encode($forged->ready));
    }

    public function test_an_apps_own_tests_can_fake_the_realtime_server_with_http_fake(): void
    {
        \Illuminate\Support\Facades\Http::fake(['*' => \Illuminate\Support\Facades\Http::response(['success' => true])]);

        $this->assertTrue($this->realtime->sendThreadUpdate(7, ['faked' => true]));

        \Illuminate\Support\Facades\Http::assertSent(static fn ($request): bool => $request->url() === self::$node->url().'/api/broadcast'
            && $request['event'] === 'thread_updated' && $request['data'] === ['faked' => true]);
        self::$node->flush(self::$alice, 'thread.7');
        $this->assertSame([], array_filter(self::$alice->events('thread_updated'), static fn (array $l): bool => $l['data'] === ['faked' => true]));
    }

    public function test_the_node_accepts_a_tymon_shaped_token_minted_without_the_package(): void
    {
        $token = \MechaMap\Realtime\Tests\Support\TymonToken::mint(RealtimeNode::JWT_SECRET, 46, 60, time());

        $dave = SocketListener::connect(self::$node->url(), $token);
        $this->defer($dave->stop(...));

        $this->assertTrue($dave->connected(), json_encode($dave->ready));
        $this->assertTrue($this->realtime->isUserOnline(46));
    }
}
