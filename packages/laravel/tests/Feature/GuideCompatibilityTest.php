<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Tests\Feature;

use MechaMap\Realtime\Tests\Support\FeatureTestCase;
use MechaMap\Realtime\Tests\Support\LaravelApp;
use MechaMap\Realtime\Tests\Support\NodeScript;
use MechaMap\Realtime\Tests\Support\Paths;
use MechaMap\Realtime\Tests\Support\RealtimeNode;

/**
 * The package replaces the integration guide's code without changing what the app sees: the
 * requests the guide's service made (tests/fixtures/guide-wire.json, recorded from the guide's
 * code) are what the package sends, and `realtime:test` tells a working node from a broken one.
 * That the node accepts those same requests is checked on the node's side
 * (apps/realtime/test/laravel-app.test.ts replays the fixture).
 */
final class GuideCompatibilityTest extends FeatureTestCase
{
    private static array $wire;
    private static LaravelApp $app;
    private static NodeScript $api;
    private static ?RealtimeNode $node = null;

    public static function setUpBeforeClass(): void
    {
        self::$wire = json_decode((string) file_get_contents(Paths::fixture('guide-wire.json')), true, 512, JSON_THROW_ON_ERROR);
        self::$app = LaravelApp::install();
        self::deferForClass(self::$app->remove(...));
        self::$api = NodeScript::recordingApi();
        self::deferForClass(self::$api->stop(...));
    }

    protected function setUp(): void
    {
        self::$api->post('/__api/answers', ['reset' => true]);
        self::$api->delete('/__api/requests');
    }

    /** One real node for the tests that need one, started by the first of them. */
    private static function realNode(): RealtimeNode
    {
        return self::$node ??= self::classNode();
    }

    public static function tearDownAfterClass(): void
    {
        parent::tearDownAfterClass();
        self::$node = null;
    }

    private static function env(array $env = []): array
    {
        return $env + ['WEBSOCKET_SERVER_URL' => self::$api->url(), 'WEBSOCKET_API_KEY' => self::$wire['api_key']];
    }

    /** @return array<string, string> lower-cased name => value */
    private static function headers(array $request): array
    {
        $headers = [];
        foreach ($request['headers'] as [$name, $value]) {
            $headers[strtolower($name)] = $value;
        }

        return $headers;
    }

    public function test_the_three_sends_and_test_connection_put_the_guides_requests_on_the_wire(): void
    {
        $inputs = self::$wire['inputs'];
        $run = self::$app->artisan([
            'realtime:calls', (string) self::$wire['user_id'], (string) self::$wire['thread_id'],
            '--notification='.json_encode($inputs['notification']),
            '--thread-data='.json_encode($inputs['thread_data']),
            '--reply='.json_encode($inputs['reply']),
        ], self::env());
        $this->assertSame(0, $run['exit'], $run['stdout'].$run['stderr']);
        $sent = self::$api->requests('/__api/requests');

        $this->assertSame(
            array_map(static fn (array $r): string => $r['method'].' '.$r['path'], self::$wire['requests']),
            array_map(static fn (array $r): string => $r['method'].' '.$r['url'], $sent),
        );
        foreach (self::$wire['requests'] as $i => $expected) {
            $call = $expected['call'];
            $this->assertSame($expected['body'], $sent[$i]['body'], "$call: byte-identical JSON body");

            // The guide's headers with the guide's values; the transport's own (Host, Content-Length);
            // and exactly one more on the POSTs: the package's Idempotency-Key.
            $headers = self::headers($sent[$i]);
            foreach ($expected['headers'] as $name => $value) {
                $this->assertSame($value, $headers[strtolower($name)] ?? null, "$call: $name");
            }
            $extra = array_keys(array_diff_key($headers, array_change_key_case($expected['headers']), ['host' => 1, 'content-length' => 1]));
            if ($expected['method'] === 'POST') {
                $this->assertSame(['idempotency-key'], $extra, $call);
                $this->assertMatchesRegularExpression('/^[0-9a-f-]{36}$/', $headers['idempotency-key']);
            } else {
                $this->assertSame([], $extra, "$call: no header added, no API key");
            }
        }
        $printed = array_map(static fn (string $l): array => json_decode($l, true), explode("\n", trim($run['stdout'])));
        $this->assertSame(['status' => 'success', 'message' => 'Connection successful', 'data' => self::$wire['health_answer']], $printed[3]['result']);
    }

    public function test_an_apps_controller_using_the_service_works_against_a_real_node(): void
    {
        $node = self::realNode();
        $listener = $this->listener($node, 42);
        [$server, $url] = self::$app->serve(['WEBSOCKET_SERVER_URL' => $node->url(), 'WEBSOCKET_API_KEY' => RealtimeNode::API_KEY]);
        $this->defer($server->stop(...));
        $http = new \GuzzleHttp\Client(['base_uri' => $url, 'http_errors' => false, 'timeout' => 10]);

        $health = $http->get('/api/realtime/test');
        $this->assertSame('success', json_decode((string) $health->getBody(), true)['status'] ?? null, (string) $health->getBody());

        $guest = $http->post('/api/notifications/send', ['headers' => ['Accept' => 'application/json'], 'json' => ['user_id' => 42]]);
        $this->assertSame(401, $guest->getStatusCode());

        $sent = $http->post('/api/notifications/send', [
            'headers' => ['Accept' => 'application/json', 'X-User-Id' => '5', 'X-User-Name' => 'Alice'],
            'json' => ['user_id' => 42, 'thread_id' => 7, 'reply_id' => 99],
        ]);
        $this->assertSame(['success' => true, 'message' => 'Notification sent'], json_decode((string) $sent->getBody(), true));

        $event = $listener->waitForEvent('notification');
        $this->assertSame(['id' => 5, 'name' => 'Alice', 'avatar' => 'http://127.0.0.1/avatars/5.png'], $event['data']['data']['user']);
        $this->assertSame(99, $event['data']['data']['reply_id']);
    }

    public function test_realtime_test_passes_against_a_real_node(): void
    {
        $node = self::realNode();

        $run = self::$app->artisan(['realtime:test'], ['WEBSOCKET_SERVER_URL' => $node->url(), 'WEBSOCKET_API_KEY' => RealtimeNode::API_KEY]);

        $this->assertSame(0, $run['exit'], $run['stdout'].$run['stderr']);
        $this->assertStringContainsString("Connection successful!\nServer status: ok\n", $run['stdout']);
        $this->assertStringContainsString('API key: accepted', $run['stdout']);
    }

    public function test_realtime_test_fails_on_a_degraded_server_even_with_a_200(): void
    {
        self::$api->post('/__api/answers', ['GET /health' => ['status' => 200, 'body' => ['status' => 'degraded']]]);

        $run = self::$app->artisan(['realtime:test'], self::env());

        $this->assertSame(1, $run['exit'], $run['stdout']);
        $this->assertStringContainsString('Connection failed!', $run['stdout'].$run['stderr']);
        $this->assertStringContainsString('Server status: degraded', $run['stdout']);
    }

    public function test_realtime_test_fails_when_the_node_rejects_the_key(): void
    {
        $node = self::realNode();

        $run = self::$app->artisan(['realtime:test'], ['WEBSOCKET_SERVER_URL' => $node->url(), 'WEBSOCKET_API_KEY' => 'not-the-key-0123456789']);

        $this->assertSame(1, $run['exit']);
        $this->assertStringContainsString('Server status: ok', $run['stdout']);
        $this->assertStringContainsString('API key: rejected (401 unauthorized)', $run['stdout'].$run['stderr']);
    }

    public function test_realtime_test_fails_when_the_server_is_down(): void
    {
        $run = self::$app->artisan(['realtime:test'], self::env(['WEBSOCKET_SERVER_URL' => 'http://127.0.0.1:'.Paths::freePort()]));

        $this->assertSame(1, $run['exit']);
        $this->assertStringContainsString('Error: Connection error: cURL error 7', $run['stdout']);
    }

    public function test_a_missing_api_key_is_a_clear_message_not_a_type_error(): void
    {
        // The guide's service threw "TypeError: Cannot assign null to property ...$apiKey" here.
        $env = self::env(['WEBSOCKET_API_KEY' => 'null']);

        $calls = self::$app->artisan(['realtime:calls', '--call=sendNotificationToUser'], $env);
        $sent = self::$api->requests('/__api/requests');
        $command = self::$app->artisan(['realtime:test'], $env);

        $this->assertSame(1, $calls['exit'], 'the call returns false');
        $this->assertSame(false, json_decode(trim($calls['stdout']), true)['result']);
        $this->assertSame([], $sent, 'nothing is sent without a key');
        $this->assertSame(1, $command['exit']);
        $this->assertStringContainsString('API key: not configured (set WEBSOCKET_API_KEY', $command['stdout'].$command['stderr']);
        $this->assertStringNotContainsString('TypeError', $calls['stdout'].$calls['stderr'].$command['stdout'].$command['stderr']);
    }

    public function test_the_config_is_publishable(): void
    {
        $app = LaravelApp::install();
        $this->defer($app->remove(...));

        $run = $app->artisan(['vendor:publish', '--tag=realtime-config']);

        $this->assertSame(0, $run['exit'], $run['stdout'].$run['stderr']);
        $this->assertFileEquals(Paths::package('config/websocket.php'), $app->path('config/websocket.php'));
    }
}
