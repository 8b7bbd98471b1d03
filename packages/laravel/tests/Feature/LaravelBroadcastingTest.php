<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Tests\Feature;

use MechaMap\Realtime\Tests\Support\BackgroundProcess;
use MechaMap\Realtime\Tests\Support\EchoListener;
use MechaMap\Realtime\Tests\Support\FeatureTestCase;
use MechaMap\Realtime\Tests\Support\LaravelApp;
use MechaMap\Realtime\Tests\Support\NodeScript;
use MechaMap\Realtime\Tests\Support\Paths;
use MechaMap\Realtime\Tests\Support\RealtimeNode;
use MechaMap\Realtime\Tests\Support\RedisServer;

/**
 * Laravel's own broadcasting against two real nodes sharing a real Redis, heard by real
 * laravel-echo clients: the `realtime` driver (ShouldBroadcast, toOthers, Broadcast::channel()
 * authorization, presence, whispers), Laravel's RedisBroadcaster, and the driver's queued path.
 */
final class LaravelBroadcastingTest extends FeatureTestCase
{
    private static RedisServer $redis;
    private static LaravelApp $app;
    /** @var array{0: RealtimeNode, 1: RealtimeNode} */
    private static array $nodes;
    private static string $appUrl;

    public static function setUpBeforeClass(): void
    {
        self::$redis = RedisServer::start();
        self::deferForClass(self::$redis->stop(...));
        self::$app = LaravelApp::install();
        self::deferForClass(self::$app->remove(...));
        $ports = [Paths::freePort(), Paths::freePort()];
        [$server, self::$appUrl] = self::$app->serve(self::appEnv('http://127.0.0.1:'.$ports[0]));
        self::deferForClass($server->stop(...));
        self::$nodes = [self::startNode('a', $ports[0]), self::startNode('b', $ports[1])];
    }

    private static function startNode(string $id, int $port): RealtimeNode
    {
        return self::classNode([
            'PORT' => (string) $port,
            'NODE_ID' => $id,
            'REDIS_URL' => self::$redis->url(),
            'CHANNEL_AUTH' => 'laravel',
            'LARAVEL_API_URL' => self::$appUrl,
        ]);
    }

    /** The Laravel app's environment: the realtime driver, Redis for Laravel's own broadcaster and queue. */
    private static function appEnv(string $realtimeUrl, array $env = []): array
    {
        return $env + [
            'BROADCAST_DRIVER' => 'realtime',
            'WEBSOCKET_SERVER_URL' => $realtimeUrl,
            'WEBSOCKET_API_KEY' => RealtimeNode::API_KEY,
            'REDIS_PORT' => (string) self::$redis->port,
            'QUEUE_CONNECTION' => 'sync',
            'LOG_CHANNEL' => 'stderr',
        ];
    }

    private function echo(int $node, int $userId, array $plan): EchoListener
    {
        $echo = EchoListener::connect(self::$nodes[$node]->url(), self::tokenFor($userId), ['X-User-Id' => (string) $userId], $plan);
        $this->defer($echo->stop(...));

        return $echo;
    }

    /** Echo's subscribe has no answer: a marker broadcast through the node says when it took effect. */
    private function subscribed(EchoListener $echo, string $channel): void
    {
        $deadline = microtime(true) + 5;
        while (true) {
            $marker = bin2hex(random_bytes(4));
            self::$nodes[0]->api('POST', '/api/broadcast', ['event' => 'ready', 'to' => 'channel', 'channel' => $channel, 'data' => ['m' => $marker]]);
            try {
                $echo->waitForEvent('ready', $channel, static fn ($d) => ($d['m'] ?? null) === $marker, 0.3);

                return;
            } catch (\RuntimeException $e) {
                if (microtime(true) > $deadline) {
                    throw $e;
                }
            }
        }
    }

    /** POSTs the app's OrderController::ship as user 1, which does `broadcast(new OrderShipped(...))->toOthers()`. */
    private function ship(int $orderId, string $marker, array $channels, ?string $socketId = null, ?string $appUrl = null): void
    {
        $headers = "Content-Type: application/json\r\nAccept: application/json\r\nX-User-Id: 1\r\n";
        if ($socketId !== null) {
            $headers .= "X-Socket-ID: $socketId\r\n";
        }
        $context = stream_context_create(['http' => [
            'method' => 'POST', 'header' => $headers, 'ignore_errors' => true, 'timeout' => 10,
            'content' => json_encode(['marker' => $marker, 'channels' => $channels]),
        ]]);
        $body = file_get_contents(($appUrl ?? self::$appUrl)."/orders/$orderId/ship", false, $context);
        $this->assertStringContainsString(' 204', $http_response_header[0] ?? '', (string) $body);
    }

    private const EVENT = 'App\\Events\\OrderShipped';

    public function test_a_should_broadcast_event_reaches_an_echo_client_on_each_node_exactly_once(): void
    {
        $onA = $this->echo(0, 2, [['channel' => 'news']]);
        $onB = $this->echo(1, 3, [['channel' => 'news']]);
        $this->subscribed($onA, 'news');
        $this->subscribed($onB, 'news');

        $this->ship(5, 'once', ['news']);
        $this->ship(5, 'after', ['news']);

        foreach ([$onA, $onB] as $echo) {
            $echo->waitForEvent(self::EVENT, 'news', static fn ($d) => $d['marker'] === 'after');
            $this->assertSame(['once', 'after'], array_column($echo->events(self::EVENT, 'news'), 'marker'));
            $this->assertSame(['orderId' => 5, 'marker' => 'once'], $echo->events(self::EVENT, 'news')[0]);
        }
    }

    public function test_to_others_skips_the_senders_socket_on_every_node(): void
    {
        $sender = $this->echo(1, 2, [['channel' => 'news']]);
        $others = [$this->echo(0, 3, [['channel' => 'news']]), $this->echo(1, 4, [['channel' => 'news']])];
        foreach ([$sender, ...$others] as $echo) {
            $this->subscribed($echo, 'news');
        }

        $this->ship(7, 'to-others', ['news'], $sender->socketId);
        $this->ship(7, 'to-all', ['news']);

        foreach ([$sender, ...$others] as $echo) {
            $echo->waitForEvent(self::EVENT, 'news', static fn ($d) => $d['marker'] === 'to-all');
        }
        $this->assertSame(['to-all'], array_column($sender->events(self::EVENT, 'news'), 'marker'));
        foreach ($others as $echo) {
            $this->assertSame(['to-others', 'to-all'], array_column($echo->events(self::EVENT, 'news'), 'marker'));
        }
    }

    public function test_a_private_channel_is_authorized_by_a_broadcast_channel_callback_and_a_forbidden_one_never_gets_an_event(): void
    {
        $echo = $this->echo(1, 5, [['private' => 'orders.6'], ['private' => 'orders.5']]);
        $refused = $echo->process->waitFor(static fn (array $l): bool => ($l['event'] ?? null) === 'subscription_error', 5, 'subscription_error');
        $this->assertSame(['private-orders.6', 403], $refused['args']);
        $this->subscribed($echo, 'private-orders.5');

        $this->ship(6, 'secret', ['private-orders.6']);
        $this->ship(5, 'mine', ['private-orders.5', 'private-orders.6']);

        $echo->waitForEvent(self::EVENT, 'private-orders.5', static fn ($d) => $d['marker'] === 'mine');
        $this->assertSame([], $echo->events(self::EVENT, 'private-orders.6'));
        $this->assertCount(1, $echo->events(self::EVENT, 'private-orders.5'));
    }

    public function test_presence_here_joining_and_leaving_across_nodes_once_per_user(): void
    {
        $watcher = $this->echo(0, 1, [['join' => 'chat.1']]);
        $this->assertSame([['name' => 'user 1']], $watcher->waitForPresence('here')['here']);

        $tabs = [$this->echo(1, 2, [['join' => 'chat.1']]), $this->echo(0, 2, [['join' => 'chat.1']])];
        foreach ($tabs as $tab) {
            $tab->waitForPresence('here');
        }
        $watcher->waitForPresence('joining');
        $tabs[0]->stop();
        $third = $this->echo(1, 3, [['join' => 'chat.1']]);
        $watcher->waitForPresence('joining', static fn ($user) => $user === ['name' => 'user 3']);
        $tabs[1]->stop();
        $watcher->waitForPresence('leaving');
        $third->stop();
        $watcher->waitForPresence('leaving', static fn ($user) => $user === ['name' => 'user 3']);

        $this->assertSame([['name' => 'user 2'], ['name' => 'user 3']], array_column($watcher->presence('joining'), 'joining'));
        $this->assertSame([['name' => 'user 2'], ['name' => 'user 3']], array_column($watcher->presence('leaving'), 'leaving'));
    }

    public function test_whispers_reach_the_other_members_on_both_nodes_never_the_sender(): void
    {
        $sender = $this->echo(0, 2, [['private' => 'orders.5']]);
        $others = [$this->echo(0, 3, [['private' => 'orders.5']]), $this->echo(1, 4, [['private' => 'orders.5']])];
        foreach ([$sender, ...$others] as $echo) {
            $this->subscribed($echo, 'private-orders.5');
        }

        $sender->command(['whisper' => ['channel' => 'orders.5', 'event' => 'typing', 'data' => ['who' => 2]]]);
        foreach ($others as $echo) {
            $this->assertSame(['who' => 2], $echo->waitForEvent('client-typing', 'private-orders.5')['args'][1]);
        }
        $this->ship(5, 'after-whisper', ['private-orders.5']);
        $sender->waitForEvent(self::EVENT, 'private-orders.5', static fn ($d) => $d['marker'] === 'after-whisper');
        $this->assertSame([], $sender->events('client-typing', 'private-orders.5'));
    }

    public function test_laravels_own_redis_broadcaster_delivers_each_event_once_per_listener(): void
    {
        $listeners = [$this->echo(0, 2, [['channel' => 'news']]), $this->echo(1, 3, [['channel' => 'news']])];
        foreach ($listeners as $echo) {
            $this->subscribed($echo, 'news');
        }
        $php = $this->artisanServer(['BROADCAST_DRIVER' => 'redis']);

        foreach (['r1', 'r2', 'r3'] as $marker) {
            $this->ship(9, $marker, ['news'], null, $php);
        }

        foreach ($listeners as $echo) {
            $echo->waitForEvent(self::EVENT, 'news', static fn ($d) => $d['marker'] === 'r3');
            $this->assertSame(['r1', 'r2', 'r3'], array_column($echo->events(self::EVENT, 'news'), 'marker'));
        }
    }

    public function test_the_queued_path_delivers_once_what_the_cluster_could_not_take(): void
    {
        $listener = $this->echo(0, 2, [['channel' => 'news']]);
        $this->subscribed($listener, 'news');
        // A node that is down for now: the broadcast is handed to the queue (Redis) under its key.
        $downPort = Paths::freePort();
        $php = $this->artisanServer(['QUEUE_CONNECTION' => 'redis', 'WEBSOCKET_SERVER_URL' => "http://127.0.0.1:$downPort"]);

        // ShouldBroadcast: the event is queued; the worker's broadcast fails and hands over a DeliverBroadcast.
        $this->ship(11, 'queued', ['news'], null, $php);
        $down = ['WEBSOCKET_SERVER_URL' => "http://127.0.0.1:$downPort"];
        $this->assertSame(0, $this->worker($down, ['--once'])['exit']);
        $this->assertSame('1', self::$redis->command('LLEN', 'laravel_database_queues:default'));
        $job = json_decode(self::$redis->command('LINDEX', 'laravel_database_queues:default', '0'), true);
        $this->assertSame('MechaMap\\Realtime\\Broadcasting\\DeliverBroadcast', $job['displayName']);

        // While the node stays down, its attempt fails and it waits for its back-off (1 s).
        $this->assertSame(0, $this->worker($down, ['--once'])['exit']);
        $this->assertSame('0', self::$redis->command('LLEN', 'laravel_database_queues:default'));
        $this->assertSame('1', self::$redis->command('ZCARD', 'laravel_database_queues:default:delayed'));

        $node = RealtimeNode::start(['PORT' => (string) $downPort, 'NODE_ID' => 'late', 'REDIS_URL' => self::$redis->url()]);
        $this->defer($node->stop(...));
        $worker = $this->worker(['WEBSOCKET_SERVER_URL' => $node->url()], ['--max-jobs=1', '--max-time=10', '--sleep=0']);
        $this->assertSame(0, $worker['exit'], $worker['stderr']);

        $listener->waitForEvent(self::EVENT, 'news', static fn ($d) => $d['marker'] === 'queued');
        $this->ship(11, 'later', ['news']);
        $listener->waitForEvent(self::EVENT, 'news', static fn ($d) => $d['marker'] === 'later');
        $this->assertSame(['queued', 'later'], array_column($listener->events(self::EVENT, 'news'), 'marker'));
        $this->assertSame('0', self::$redis->command('ZCARD', 'laravel_database_queues:default:delayed'));
        $this->assertSame('0', self::$redis->command('LLEN', 'laravel_database_queues:default'));
    }

    public function test_a_broadcast_whose_answer_was_lost_is_retried_by_the_queue_and_delivered_once(): void
    {
        $listener = $this->echo(0, 2, [['channel' => 'news']]);
        $this->subscribed($listener, 'news');
        // The node takes the broadcast, the proxy answers 503 anyway: only the key stops a second delivery.
        $proxy = NodeScript::flakyProxy(self::$nodes[0]->port, ['fwd503']);
        $this->defer($proxy->stop(...));
        $env = ['WEBSOCKET_SERVER_URL' => $proxy->url(), 'WEBSOCKET_RETRY_ATTEMPTS' => '0'];
        $php = $this->artisanServer($env + ['QUEUE_CONNECTION' => 'redis']);

        $this->ship(12, 'lost-answer', ['news'], null, $php);
        $this->assertSame(0, $this->worker($env, ['--once'])['exit']); // the event: 503, handed over
        $this->assertSame(0, $this->worker($env, ['--once'])['exit']); // DeliverBroadcast: duplicate, done

        $requests = $proxy->requests('/__proxy/requests');
        $this->assertSame(['fwd503', 'pass'], array_column($requests, 'step'));
        $this->assertCount(1, array_unique(array_map(static fn (array $r) => $r['headers']['idempotency-key'], $requests)));
        $this->assertTrue(json_decode($requests[1]['upstream_body'], true)['duplicate']);
        $this->ship(12, 'after', ['news']);
        $listener->waitForEvent(self::EVENT, 'news', static fn ($d) => $d['marker'] === 'after');
        $this->assertSame(['lost-answer', 'after'], array_column($listener->events(self::EVENT, 'news'), 'marker'));
    }

    /** Another `php -S` of the same app with other settings (the class's own keeps the defaults). */
    private function artisanServer(array $env): string
    {
        $appEnv = self::appEnv((string) ($env['WEBSOCKET_SERVER_URL'] ?? self::$nodes[0]->url()), $env);
        /** @var BackgroundProcess $server */
        [$server, $url] = self::$app->serve($appEnv);
        $this->defer($server->stop(...));

        return $url;
    }

    /** `php artisan queue:work redis ...` in the app, with the realtime config of $env. */
    private function worker(array $env, array $options): array
    {
        $appEnv = self::appEnv((string) $env['WEBSOCKET_SERVER_URL'], $env + ['QUEUE_CONNECTION' => 'redis']);

        return self::$app->artisan(array_merge(['queue:work', 'redis'], $options), $appEnv, 20);
    }
}
