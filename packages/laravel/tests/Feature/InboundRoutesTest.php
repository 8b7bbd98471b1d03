<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Tests\Feature;

use GuzzleHttp\Client;
use MechaMap\Realtime\Events\UserCameOnline;
use MechaMap\Realtime\Events\UserWentOffline;
use MechaMap\Realtime\Tests\Support\FeatureTestCase;
use MechaMap\Realtime\Tests\Support\LaravelApp;
use MechaMap\Realtime\Tests\Support\RealtimeNode;

/**
 * The node calls Laravel: presence webhooks and channel authorization, through the
 * package's routes in a real Laravel app served by `php -S`, with the node's own HTTP client.
 */
final class InboundRoutesTest extends FeatureTestCase
{
    /** The key the node sends; Laravel knows only its sha256 (plus a rotated-out one). */
    private const OLD_KEY = 'old-rotated-out-key-0123456789';

    private static LaravelApp $app;
    private static RealtimeNode $node;
    private static Client $http;

    public static function setUpBeforeClass(): void
    {
        self::$app = LaravelApp::install();
        self::deferForClass(self::$app->remove(...));
        [$server, $laravelUrl] = self::$app->serve([
            'WEBSOCKET_API_KEY' => 'null',
            'WEBSOCKET_API_KEY_HASH' => hash('sha256', self::OLD_KEY).','.hash('sha256', RealtimeNode::API_KEY),
            'CACHE_DRIVER' => 'file',
            'LOG_CHANNEL' => 'single',
        ]);
        self::deferForClass($server->stop(...));
        self::$node = self::classNode(['LARAVEL_API_URL' => $laravelUrl, 'CHANNEL_AUTH' => 'laravel']);
        self::$http = new Client(['base_uri' => $laravelUrl, 'http_errors' => false, 'timeout' => 10]);
    }

    /** @return list<array> the presence events the app's listeners recorded */
    private static function recordedEvents(): array
    {
        $file = self::$app->path('storage/logs/realtime-events.jsonl');
        $lines = is_file($file) ? file($file, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) : [];

        return array_map(static fn (string $l): array => json_decode($l, true), $lines);
    }

    /** Waits for the app to record an event matching $match: the webhook is asynchronous. */
    private static function awaitRecordedEvent(callable $match, float $timeout = 5.0): array
    {
        $deadline = microtime(true) + $timeout;
        while (true) {
            foreach (self::recordedEvents() as $event) {
                if ($match($event)) {
                    return $event;
                }
            }
            if (microtime(true) > $deadline) {
                throw new \RuntimeException('no such presence event; recorded: '.json_encode(self::recordedEvents())."\n"
                    .self::$node->process->output());
            }
            // The listener's file is the only signal there is: poll it briefly until the deadline.
            usleep(20_000);
        }
    }

    private static function post(string $path, array $body, ?string $key = RealtimeNode::API_KEY): array
    {
        $response = self::$http->post($path, [
            'headers' => ['Accept' => 'application/json'] + ($key === null ? [] : ['X-WebSocket-API-Key' => $key]),
            'json' => $body,
        ]);

        return [$response->getStatusCode(), json_decode((string) $response->getBody(), true)];
    }

    public function test_a_socket_connecting_and_leaving_dispatches_user_came_online_then_user_went_offline(): void
    {
        $listener = $this->listener(self::$node, 501);

        $online = self::awaitRecordedEvent(static fn (array $e): bool => $e['user_id'] === '501' && $e['class'] === UserCameOnline::class);
        $this->assertNotEmpty($online['webhook_id']);
        $this->assertNotFalse(date_create($online['at']));

        $listener->stop();
        self::awaitRecordedEvent(static fn (array $e): bool => $e['user_id'] === '501' && $e['class'] === UserWentOffline::class);
        $this->assertCount(2, array_filter(self::recordedEvents(), static fn (array $e): bool => $e['user_id'] === '501'));
    }

    public function test_a_repeated_webhook_id_is_answered_but_dispatched_once(): void
    {
        $body = ['id' => 'wh-'.bin2hex(random_bytes(4)), 'event' => 'user_online', 'user_id' => '502', 'at' => '2026-11-25T10:00:00.000Z'];

        $first = self::post('/api/realtime/presence', $body);
        $second = self::post('/api/realtime/presence', $body);

        $this->assertSame([200, ['success' => true]], $first);
        $this->assertSame([200, ['success' => true, 'duplicate' => true]], $second);
        $this->assertCount(1, array_filter(self::recordedEvents(), static fn (array $e): bool => $e['webhook_id'] === $body['id']));
    }

    public function test_a_failing_listener_answers_500_so_the_retry_dispatches_again(): void
    {
        $body = ['id' => 'wh-flaky', 'event' => 'user_offline', 'user_id' => 'flaky', 'at' => '2026-11-25T10:00:00.000Z'];

        [$status, $answer] = self::post('/api/realtime/presence', $body);
        $this->assertSame(500, $status);
        $this->assertSame('listener_failed', $answer['error']);

        $this->assertSame([200, ['success' => true]], self::post('/api/realtime/presence', $body));
        $this->assertCount(1, array_filter(self::recordedEvents(), static fn (array $e): bool => $e['webhook_id'] === 'wh-flaky'));
    }

    public function test_callbacks_without_the_right_key_are_refused(): void
    {
        $body = ['id' => 'wh-'.bin2hex(random_bytes(4)), 'event' => 'user_online', 'user_id' => '503'];

        $this->assertSame([401, ['success' => false, 'error' => 'unauthorized']], self::post('/api/realtime/presence', $body, 'guess-0123456789'));
        $this->assertSame(401, self::post('/api/realtime/presence', $body, null)[0]);
        $this->assertSame(401, self::post('/api/realtime/authorize', ['user_id' => '1', 'channel' => 'forum.3'], null)[0]);
        $this->assertSame([], array_filter(self::recordedEvents(), static fn (array $e): bool => $e['user_id'] === '503'));
    }

    public function test_a_rotated_key_listed_in_the_hash_list_is_still_accepted(): void
    {
        $body = ['id' => 'wh-'.bin2hex(random_bytes(4)), 'event' => 'user_online', 'user_id' => '504'];

        $this->assertSame(200, self::post('/api/realtime/presence', $body, self::OLD_KEY)[0]);
    }

    public function test_a_malformed_webhook_is_a_422(): void
    {
        [$status, $answer] = self::post('/api/realtime/presence', ['id' => 'x', 'event' => 'user_away', 'user_id' => ['no']]);

        $this->assertSame(422, $status);
        $this->assertSame(['event', 'user_id'], array_column($answer['details'], 'path'));
    }

    public function test_the_node_admits_only_what_the_apps_rules_and_gates_allow(): void
    {
        $member = $this->listener(self::$node, 2, [
            ['channel' => 'forum.3'],   // rule: members may
            ['channel' => 'forum.4'],   // rule: moderators only
            ['thread_id' => 7],         // Gate view-thread: odd ids
            ['thread_id' => 8],
            ['channel' => 'admin.1'],   // no rule: denied
            ['channel' => 'broken.x'],  // the rule throws: 503, the node fails closed
        ]);
        $moderator = $this->listener(self::$node, 1, [['channel' => 'forum.4']]);

        $this->assertSame(
            [['ok' => true, 'channel' => 'forum.3'], ['ok' => false, 'error' => 'forbidden'], ['ok' => true, 'channel' => 'thread.7'],
                ['ok' => false, 'error' => 'forbidden'], ['ok' => false, 'error' => 'forbidden'], ['ok' => false, 'error' => 'auth_unavailable']],
            array_map(static fn (array $ack): array => array_intersect_key($ack, array_flip(['ok', 'channel', 'error'])), $member->acks()),
        );
        $this->assertTrue($moderator->acks()[0]['ok']);

        // And what the node admitted is where broadcasts arrive.
        $answer = self::$node->api('POST', '/api/broadcast', ['event' => 'new_thread', 'to' => 'channel', 'channel' => 'forum.3', 'data' => ['id' => 1]]);
        $this->assertSame(200, $answer['status']);
        $this->assertSame('forum.3', $member->waitForEvent('new_thread')['meta']['channel']);
    }

    public function test_guests_are_asked_about_with_a_null_user(): void
    {
        $this->assertSame([200, ['allowed' => false]], self::post('/api/realtime/authorize', ['user_id' => null, 'channel' => 'forum.3']));
        $this->assertSame([200, ['allowed' => true]], self::post('/api/realtime/authorize', ['user_id' => null, 'channel' => 'thread.9']));
    }

    public function test_a_malformed_authorization_request_is_denied(): void
    {
        [$status, $answer] = self::post('/api/realtime/authorize', ['user_id' => ['x'], 'channel' => 'forum.3']);

        $this->assertSame(422, $status);
        $this->assertFalse($answer['allowed']);
    }
}
