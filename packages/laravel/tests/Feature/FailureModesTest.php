<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Tests\Feature;

use MechaMap\Realtime\RealtimeNotificationService;
use MechaMap\Realtime\Tests\Support\FeatureTestCase;
use MechaMap\Realtime\Tests\Support\NodeScript;
use MechaMap\Realtime\Tests\Support\RealtimeNode;
use MechaMap\Realtime\Tests\Support\SocketListener;

/**
 * What the app sees when the realtime side misbehaves: false within the timeout, nothing
 * thrown, and retries that never deliver twice.
 */
final class FailureModesTest extends FeatureTestCase
{
    private static RealtimeNode $node;
    private static SocketListener $alice;

    public static function setUpBeforeClass(): void
    {
        self::$node = self::classNode();
        self::$alice = self::classListener(self::$node, 42, [['thread_id' => 7]]);
    }

    private function service(string $url, array $broadcasting = []): RealtimeNotificationService
    {
        return self::bootPackageApp([
            'websocket.server.url' => $url,
            'websocket.api_key' => RealtimeNode::API_KEY,
            'websocket.broadcasting' => $broadcasting + ['timeout' => 5, 'retry_attempts' => 3],
        ])->make(RealtimeNotificationService::class);
    }

    /** @return array<string, callable(RealtimeNotificationService): mixed> every public method, with its failure value */
    private static function everyMethod(): array
    {
        return [
            'sendNotificationToUser' => [static fn ($s) => $s->sendNotificationToUser(42, ['id' => 'n']), false],
            'sendThreadUpdate' => [static fn ($s) => $s->sendThreadUpdate(7, ['a' => 1]), false],
            'sendNewReply' => [static fn ($s) => $s->sendNewReply(7, ['a' => 1]), false],
            'sendToUser' => [static fn ($s) => $s->sendToUser(42, 'e', ['a' => 1]), false],
            'sendToUsers' => [static fn ($s) => $s->sendToUsers([42, 43], 'e', ['a' => 1]), false],
            'sendToThread' => [static fn ($s) => $s->sendToThread(7, 'e', ['a' => 1]), false],
            'sendToChannel' => [static fn ($s) => $s->sendToChannel('forum.3', 'e', ['a' => 1]), false],
            'broadcastToAll' => [static fn ($s) => $s->broadcastToAll('e', ['a' => 1]), false],
            'batch' => [static fn ($s) => $s->batch([['event' => 'e', 'to' => 'all', 'data' => ['a' => 1]]]), false],
            'getUserPresence' => [static fn ($s) => $s->getUserPresence(42), null],
            'getUsersPresence' => [static fn ($s) => $s->getUsersPresence([42]), null],
            'getOnlineUsers' => [static fn ($s) => $s->getOnlineUsers(), null],
            'getThreadViewers' => [static fn ($s) => $s->getThreadViewers(7), null],
            'isUserOnline' => [static fn ($s) => $s->isUserOnline(42), false],
            'disconnectUser' => [static fn ($s) => $s->disconnectUser(42), false],
        ];
    }

    public function test_with_the_node_stopped_every_method_fails_quietly(): void
    {
        $stopped = RealtimeNode::start();
        $url = $stopped->url();
        $stopped->stop();
        $service = $this->service($url, ['timeout' => 2, 'retry_attempts' => 3]);

        foreach (self::everyMethod() as $method => [$call, $failure]) {
            $this->assertSame($failure, $call($service), $method);
        }
        $health = $service->testConnection();
        $this->assertSame('error', $health['status']);
        $this->assertStringStartsWith('Connection error: cURL error 7', $health['message']);

        $log = (string) file_get_contents(self::inProcessApp()->path('storage/logs/in-process.log'));
        $this->assertStringContainsString('Error sending realtime notification {"user_id":42,"error":"cURL error 7', $log);
        $this->assertStringContainsString('"attempts":4', $log, 'retried retry_attempts times');
        $this->assertStringNotContainsString(RealtimeNode::API_KEY, $log);
    }

    public function test_a_server_that_never_answers_costs_one_timeout_not_one_per_retry(): void
    {
        $api = NodeScript::recordingApi();
        $this->defer($api->stop(...));
        $api->post('/__api/answers', [
            'POST /api/broadcast' => ['status' => 200, 'body' => ['success' => true], 'delay_ms' => 4000],
            'GET /health' => ['status' => 200, 'body' => ['status' => 'ok'], 'delay_ms' => 4000],
        ]);
        $service = $this->service($api->url(), ['timeout' => 1, 'retry_attempts' => 3]);

        $sent = $service->sendNotificationToUser(42, ['id' => 'slow']);
        $health = $service->testConnection();

        // One attempt each, ended by the time budget (cURL error 28): no retry after a timeout.
        $this->assertFalse($sent);
        $this->assertStringContainsString('cURL error 28', $health['message']);
        $this->assertSame(['POST /api/broadcast', 'GET /health'], array_map(
            static fn (array $r): string => $r['method'].' '.$r['url'],
            $api->requests('/__api/requests'),
        ));
        $log = (string) file_get_contents(self::inProcessApp()->path('storage/logs/in-process.log'));
        $this->assertMatchesRegularExpression('/Error sending realtime notification \{"user_id":42,"error":"cURL error 28[^\n]*"attempts":1/', $log);
    }

    public function test_503_twice_then_200_delivers_once(): void
    {
        $proxy = NodeScript::flakyProxy(self::$node->port, ['503', '503']);
        $this->defer($proxy->stop(...));
        $marker = 'm-'.bin2hex(random_bytes(5));

        $this->assertTrue($this->service($proxy->url())->sendNewReply(7, ['marker' => $marker]));

        $requests = $proxy->requests('/__proxy/requests');
        $this->assertSame(['503', '503', 'pass'], array_column($requests, 'step'));
        $this->assertCount(1, array_unique(array_map(static fn (array $r) => $r['headers']['idempotency-key'], $requests)));
        self::$node->flush(self::$alice, 'thread.7');
        $this->assertCount(1, $this->eventsWith('new_reply', $marker));
    }

    public function test_a_lost_answer_is_retried_without_a_second_delivery(): void
    {
        // The node delivers, the proxy answers 503 anyway: only the idempotency key stops a duplicate.
        $proxy = NodeScript::flakyProxy(self::$node->port, ['fwd503']);
        $this->defer($proxy->stop(...));
        $marker = 'm-'.bin2hex(random_bytes(5));

        $this->assertTrue($this->service($proxy->url())->sendNotificationToUser(42, ['marker' => $marker]));

        $requests = $proxy->requests('/__proxy/requests');
        $this->assertSame(['fwd503', 'pass'], array_column($requests, 'step'));
        $this->assertSame(true, json_decode($requests[1]['upstream_body'], true)['duplicate'] ?? null, $requests[1]['upstream_body']);
        self::$node->flush(self::$alice, 'user.42');
        $this->assertCount(1, $this->eventsWith('notification', $marker));
    }

    public function test_a_batch_whose_answer_is_lost_is_not_delivered_twice(): void
    {
        $proxy = NodeScript::flakyProxy(self::$node->port, ['fwd503']);
        $this->defer($proxy->stop(...));
        $marker = 'm-'.bin2hex(random_bytes(5));

        $this->assertTrue($this->service($proxy->url())->batch([
            ['event' => 'batched', 'to' => 'user', 'user_id' => 42, 'data' => ['marker' => $marker, 'n' => 1]],
            ['event' => 'batched', 'to' => 'user', 'user_id' => 42, 'data' => ['marker' => $marker, 'n' => 2]],
        ]));

        self::$node->flush(self::$alice, 'user.42');
        $this->assertSame([1, 2], array_map(static fn (array $l): int => $l['data']['n'], $this->eventsWith('batched', $marker)));
    }

    public function test_429_is_not_waited_for_inside_the_request(): void
    {
        // The old client slept for Retry-After (1 s here) inside the caller's request.
        $proxy = NodeScript::flakyProxy(self::$node->port, ['429:1']);
        $this->defer($proxy->stop(...));
        $marker = 'm-'.bin2hex(random_bytes(5));

        $sent = $this->service($proxy->url())->sendThreadUpdate(7, ['marker' => $marker]);

        // A 429 is not waited for inside the caller's request (the queued path honours Retry-After).
        $this->assertFalse($sent);
        $this->assertSame(['429:1'], array_column($proxy->requests('/__proxy/requests'), 'step'));
    }

    public function test_a_4xx_is_not_retried(): void
    {
        $proxy = NodeScript::flakyProxy(self::$node->port, []);
        $this->defer($proxy->stop(...));

        // "bad event!" breaks the node's event-name rule: 422 validation_failed.
        $this->assertFalse($this->service($proxy->url())->sendToUser(42, 'bad event!', ['a' => 1]));

        $requests = $proxy->requests('/__proxy/requests');
        $this->assertCount(1, $requests);
        $this->assertSame(422, $requests[0]['upstream_status']);
    }

    /** @return list<array> events named $event received by alice with data.marker = $marker */
    private function eventsWith(string $event, string $marker): array
    {
        return array_values(array_filter(self::$alice->events($event), static fn (array $l): bool => ($l['data']['marker'] ?? null) === $marker));
    }
}
