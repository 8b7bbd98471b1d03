<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Tests\Unit;

use MechaMap\Realtime\RealtimeNotificationService;
use MechaMap\Realtime\Tests\Support\FakeRealtimeApi;
use PHPUnit\Framework\TestCase;

final class RealtimeNotificationServiceTest extends TestCase
{
    private FakeRealtimeApi $api;

    protected function setUp(): void
    {
        $this->api = new FakeRealtimeApi();
    }

    private function service(array $config = [], array $events = []): RealtimeNotificationService
    {
        return new RealtimeNotificationService($this->api->client($config), $this->api->logger, $events);
    }

    public function test_the_guide_methods_send_the_guides_bodies(): void
    {
        $service = $this->service();

        $this->assertTrue($service->sendNotificationToUser(42, ['id' => 'n1', 'title' => 'Hi']));
        $this->assertTrue($service->sendThreadUpdate(7, ['title' => 'T']));
        $this->assertTrue($service->sendNewReply(7, ['reply_id' => 1]));

        $this->assertSame([
            ['event' => 'notification', 'to' => 'user', 'user_id' => 42, 'data' => ['id' => 'n1', 'title' => 'Hi']],
            ['event' => 'thread_updated', 'to' => 'thread', 'thread_id' => 7, 'data' => ['title' => 'T']],
            ['event' => 'new_reply', 'to' => 'thread', 'thread_id' => 7, 'data' => ['reply_id' => 1]],
        ], $this->api->bodies());
    }

    public function test_each_send_has_its_own_idempotency_key_unless_one_is_given(): void
    {
        $service = $this->service();
        $service->sendThreadUpdate(7, ['a' => 1]);
        $service->sendThreadUpdate(7, ['a' => 1]);
        $service->sendThreadUpdate(7, ['a' => 1], 'thread-7-v2');

        [$first, $second, $third] = array_map(static fn ($r) => $r->header('Idempotency-Key')[0], $this->api->requests());
        $this->assertNotSame($first, $second);
        $this->assertSame('thread-7-v2', $third);
    }

    public function test_event_names_come_from_the_events_config(): void
    {
        $this->service([], ['notification' => 'forum.notification'])->sendNotificationToUser(1, ['x' => 1]);

        $this->assertSame('forum.notification', $this->api->bodies()[0]['event']);
    }

    public function test_empty_data_is_sent_as_a_json_object(): void
    {
        $this->service()->sendNotificationToUser(42, []);

        $this->assertStringContainsString('"data":{}', $this->api->requests()[0]->body());
    }

    public function test_a_refused_broadcast_returns_false_and_logs_the_guides_warning(): void
    {
        $this->api->answer([422, ['success' => false, 'error' => 'validation_failed', 'details' => []]]);

        $this->assertFalse($this->service()->sendNotificationToUser(42, ['id' => 'n1']));

        $warning = $this->api->logger->at('warning')[0];
        $this->assertSame('Failed to send realtime notification', $warning['message']);
        $this->assertSame(42, $warning['context']['user_id']);
        $this->assertSame(422, $warning['context']['status']);
        $this->assertSame('validation_failed', $warning['context']['error_code']);
    }

    public function test_an_unreachable_server_returns_false_and_logs_an_error_with_context(): void
    {
        $this->api->answerAlways('refused');

        $this->assertFalse($this->service()->sendThreadUpdate(7, ['a' => 1]));

        $error = $this->api->logger->at('error')[0];
        $this->assertSame('Error sending thread update', $error['message']);
        $this->assertSame(7, $error['context']['thread_id']);
        $this->assertSame(4, $error['context']['attempts']);
        $this->assertStringContainsString('Connection refused', $error['context']['error']);
    }

    public function test_a_missing_api_key_is_a_logged_configuration_error_not_a_type_error(): void
    {
        // The guide's service throws a TypeError from its constructor here.
        $service = $this->service(['api_key' => null]);

        $this->assertFalse($service->sendNotificationToUser(42, ['id' => 'n1']));
        $this->assertFalse($service->sendToChannel('forum.3', 'e', ['a' => 1]));
        $this->assertNull($service->getUserPresence(42));

        $this->assertCount(0, $this->api->requests());
        $errors = $this->api->logger->at('error');
        $this->assertCount(3, $errors);
        $this->assertSame('Realtime is not configured: WEBSOCKET_API_KEY is not set', $errors[0]['message']);
    }

    public function test_the_api_key_never_reaches_the_logs(): void
    {
        // A server that echoes the key back in its error body.
        $this->api->answerAlways([500, ['success' => false, 'error' => 'internal', 'message' => 'bad key '.FakeRealtimeApi::KEY]]);

        $this->service(['broadcasting' => ['retry_attempts' => 1]])->sendNotificationToUser(42, ['id' => 'n1']);

        $this->assertNotEmpty($this->api->logger->records);
        $this->assertStringNotContainsString(FakeRealtimeApi::KEY, $this->api->logger->dump());
        $this->assertStringContainsString('[redacted]', $this->api->logger->dump());
    }

    public function test_send_to_users_splits_lists_over_1000_and_keeps_sending_after_a_failure(): void
    {
        $this->api->answer([200, ['success' => true]], [422, ['success' => false, 'error' => 'validation_failed']]);

        $sent = $this->service()->sendToUsers(range(1, 2500), 'digest', ['n' => 1], 'digest-2026-11-25');

        $this->assertFalse($sent);
        $bodies = $this->api->bodies();
        $this->assertSame([1000, 1000, 500], array_map(static fn (array $b): int => count($b['user_ids']), $bodies));
        $this->assertSame('users', $bodies[0]['to']);
        $keys = array_map(static fn ($r) => $r->header('Idempotency-Key')[0], $this->api->requests());
        $this->assertCount(3, array_unique($keys));
    }

    public function test_chunk_keys_derived_from_a_given_key_are_stable(): void
    {
        $this->service()->sendToUsers(range(1, 1500), 'e', ['n' => 1], 'k');
        $this->service()->sendToUsers(range(1, 1500), 'e', ['n' => 1], 'k');

        $keys = array_map(static fn ($r) => $r->header('Idempotency-Key')[0], $this->api->requests());
        $this->assertSame([$keys[0], $keys[1]], [$keys[2], $keys[3]]);
        $this->assertNotSame($keys[0], $keys[1]);
    }

    public function test_send_to_nobody_sends_nothing(): void
    {
        $this->assertTrue($this->service()->sendToUsers([], 'e', []));
        $this->assertCount(0, $this->api->requests());
    }

    public function test_every_target_has_its_body(): void
    {
        $service = $this->service();
        $service->sendToUser('u-1', 'ping', ['a' => 1]);
        $service->sendToThread(9, 'typing', ['a' => 1]);
        $service->sendToChannel('forum.3', 'new_thread', ['a' => 1]);
        $service->broadcastToAll('maintenance', ['a' => 1]);

        $this->assertSame([
            ['event' => 'ping', 'to' => 'user', 'user_id' => 'u-1', 'data' => ['a' => 1]],
            ['event' => 'typing', 'to' => 'thread', 'thread_id' => 9, 'data' => ['a' => 1]],
            ['event' => 'new_thread', 'to' => 'channel', 'channel' => 'forum.3', 'data' => ['a' => 1]],
            ['event' => 'maintenance', 'to' => 'all', 'data' => ['a' => 1]],
        ], $this->api->bodies());
    }

    public function test_batch_gives_every_item_an_id_and_splits_by_100(): void
    {
        $items = array_map(static fn (int $i): array => ['event' => 'e', 'to' => 'thread', 'thread_id' => $i, 'data' => ['i' => $i]], range(1, 150));
        $items[0]['id'] = 'my-own-id';
        $items[1]['data'] = [];

        $this->assertTrue($this->service()->batch($items));

        $requests = $this->api->requests();
        $this->assertCount(2, $requests);
        $this->assertSame('http://127.0.0.1:3000/api/broadcast/batch', $requests[0]->url());
        $bodies = $this->api->bodies();
        $this->assertCount(100, $bodies[0]['broadcasts']);
        $this->assertCount(50, $bodies[1]['broadcasts']);
        $this->assertSame('my-own-id', $bodies[0]['broadcasts'][0]['id']);
        $ids = array_column(array_merge($bodies[0]['broadcasts'], $bodies[1]['broadcasts']), 'id');
        $this->assertCount(150, array_unique($ids));
        $this->assertStringContainsString('"thread_id":2,"data":{}', $requests[0]->body());
    }

    public function test_a_batch_with_a_non_array_item_sends_nothing(): void
    {
        $this->assertFalse($this->service()->batch([['event' => 'e', 'to' => 'all', 'data' => []], 'oops']));
        $this->assertCount(0, $this->api->requests());
        $this->assertNotEmpty($this->api->logger->at('error'));
    }

    public function test_presence_queries_return_the_servers_answers(): void
    {
        $this->api->answer(
            [200, ['user_id' => '42', 'online' => true, 'connections' => 2, 'last_seen' => null]],
            [200, ['users' => ['1' => ['online' => true, 'connections' => 1], '2' => ['online' => false, 'connections' => 0]]]],
            [200, ['count' => 1, 'user_ids' => ['1'], 'next_cursor' => null]],
            [200, ['thread_id' => '7', 'count' => 1, 'user_ids' => ['1']]],
            [200, ['user_id' => '5', 'online' => false, 'connections' => 0, 'last_seen' => null]],
        );
        $service = $this->service();

        $this->assertSame(2, $service->getUserPresence(42)['connections']);
        $this->assertSame(['online' => false, 'connections' => 0], $service->getUsersPresence([1, 2])['2']);
        $this->assertSame(['1'], $service->getOnlineUsers(10, 'abc')['user_ids']);
        $this->assertSame(1, $service->getThreadViewers(7)['count']);
        $this->assertFalse($service->isUserOnline(5));

        $this->assertSame([
            'http://127.0.0.1:3000/api/presence/users/42',
            'http://127.0.0.1:3000/api/presence/users?ids=1%2C2',
            'http://127.0.0.1:3000/api/presence/online?limit=10&cursor=abc',
            'http://127.0.0.1:3000/api/threads/7/viewers',
            'http://127.0.0.1:3000/api/presence/users/5',
        ], array_map(static fn ($r) => $r->url(), $this->api->requests()));
    }

    public function test_presence_of_many_users_merges_the_chunks(): void
    {
        $this->api->answer(
            [200, ['users' => ['1' => ['online' => true, 'connections' => 1]]]],
            [200, ['users' => ['1001' => ['online' => false, 'connections' => 0]]]],
        );

        $users = $this->service()->getUsersPresence(range(1, 1001));

        $this->assertSame(['1', '1001'], array_map('strval', array_keys($users)));
        $this->assertCount(2, $this->api->requests());
    }

    public function test_a_failed_query_returns_null_and_is_logged(): void
    {
        $this->api->answer([401, ['success' => false, 'error' => 'unauthorized']]);

        $this->assertNull($this->service()->getOnlineUsers());
        $this->assertSame('unauthorized', $this->api->logger->at('warning')[0]['context']['error_code']);
    }

    public function test_disconnect_user_posts_to_the_users_disconnect_route(): void
    {
        $this->api->answer([200, ['success' => true, 'user_id' => '42']]);

        $this->assertTrue($this->service()->disconnectUser(42));
        $this->assertSame('http://127.0.0.1:3000/api/users/42/disconnect', $this->api->requests()[0]->url());
    }

    public function test_test_connection_succeeds_only_when_the_server_says_ok(): void
    {
        $this->api->answer([200, ['status' => 'ok', 'node' => 'n1']]);

        $this->assertSame(
            ['status' => 'success', 'message' => 'Connection successful', 'data' => ['status' => 'ok', 'node' => 'n1']],
            $this->service()->testConnection(),
        );
    }

    public function test_test_connection_reports_a_degraded_server_as_an_error(): void
    {
        $this->api->answer([200, ['status' => 'degraded']]);

        $result = $this->service()->testConnection();

        $this->assertSame('error', $result['status']);
        $this->assertSame('Server status is "degraded", not "ok"', $result['message']);
        $this->assertSame(200, $result['http_status']);
    }

    public function test_test_connection_keeps_the_guides_answer_for_http_errors_and_adds_the_body(): void
    {
        $this->api->answer([503, ['status' => 'draining']]);

        $this->assertSame(
            ['status' => 'error', 'message' => 'Connection failed', 'http_status' => 503, 'data' => ['status' => 'draining']],
            $this->service()->testConnection(),
        );
    }

    public function test_test_connection_reports_a_connection_error(): void
    {
        $this->api->answer('refused');

        $result = $this->service()->testConnection();

        $this->assertSame('error', $result['status']);
        $this->assertStringStartsWith('Connection error: cURL error 7', $result['message']);
    }
}
