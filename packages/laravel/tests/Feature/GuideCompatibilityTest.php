<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Tests\Feature;

use MechaMap\Realtime\Tests\Support\FeatureTestCase;
use MechaMap\Realtime\Tests\Support\LaravelApp;
use MechaMap\Realtime\Tests\Support\NodeScript;
use MechaMap\Realtime\Tests\Support\Paths;
use MechaMap\Realtime\Tests\Support\RealtimeNode;

/**
 * The package replaces the integration guide's code without changing what the app sees:
 * same wire requests, the guide's controllers and artisan commands unchanged.
 */
final class GuideCompatibilityTest extends FeatureTestCase
{
    private const KEY = 'harness_test_api_key';

    private static LaravelApp $guideApp;
    private static LaravelApp $packageApp;
    private static NodeScript $stub;
    private static ?RealtimeNode $node = null;

    public static function setUpBeforeClass(): void
    {
        self::$guideApp = LaravelApp::guide();
        self::deferForClass(self::$guideApp->remove(...));
        self::$packageApp = LaravelApp::package();
        self::deferForClass(self::$packageApp->remove(...));
        self::$stub = NodeScript::stub();
        self::deferForClass(self::$stub->stop(...));
    }

    protected function setUp(): void
    {
        self::$stub->post('/__stub/config', ['reset' => true]);
        self::$stub->delete('/__stub/requests');
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
        return $env + ['WEBSOCKET_SERVER_URL' => self::$stub->url(), 'WEBSOCKET_API_KEY' => self::KEY];
    }

    /** @return list<array> the stub's recorded requests after `harness:seed-calls` in $app */
    private function seedCalls(LaravelApp $app): array
    {
        self::$stub->delete('/__stub/requests');
        // Fixed payloads (the defaults hold uniqid() and now()), with the characters JSON encoders disagree on.
        $run = $app->artisan([
            'harness:seed-calls', '42', '7',
            '--notification='.json_encode(['id' => 'notif_1', 'title' => 'Ünïcode — "quoted"', 'url' => 'http://127.0.0.1/t/7?a=1&b=2', 'data' => ['thread_id' => 7, 'user' => ['avatar' => null]], 'read' => false]),
            '--thread-data='.json_encode(['thread_id' => 7, 'title' => '<b>T</b>', 'score' => 1.5, 'tags' => []]),
            '--reply='.json_encode(['reply_id' => 1, 'content' => "line\nbreak \u{1F600}", 'author' => ['id' => 2]]),
        ], self::env());
        $this->assertSame(0, $run['exit'], $run['stdout'].$run['stderr']);

        return self::$stub->requests('/__stub/requests');
    }

    private static function headers(array $request): array
    {
        $headers = [];
        foreach ($request['headers'] as [$name, $value]) {
            $headers[strtolower($name)] = $value;
        }

        return $headers;
    }

    public function test_the_three_guide_methods_and_test_connection_put_the_same_requests_on_the_wire(): void
    {
        $guide = $this->seedCalls(self::$guideApp);
        $package = $this->seedCalls(self::$packageApp);

        $this->assertSame(
            ['POST /api/broadcast', 'POST /api/broadcast', 'POST /api/broadcast', 'GET /health'],
            array_map(static fn (array $r): string => $r['method'].' '.$r['url'], $guide),
        );
        $this->assertCount(4, $package);
        foreach ($guide as $i => $expected) {
            $actual = $package[$i];
            $this->assertSame($expected['method'].' '.$expected['url'], $actual['method'].' '.$actual['url'], "request $i");
            $this->assertSame($expected['body'], $actual['body'], "request $i: byte-identical JSON body");

            // Same headers, same values; the package adds exactly one: Idempotency-Key on the POSTs.
            $guideHeaders = self::headers($expected);
            $packageHeaders = self::headers($actual);
            $added = array_diff_key($packageHeaders, $guideHeaders);
            unset($guideHeaders['host'], $packageHeaders['host']);
            $this->assertSame($guideHeaders, array_diff_key($packageHeaders, $added), "request $i: headers");
            if ($expected['method'] === 'POST') {
                $this->assertSame(['idempotency-key'], array_keys($added), "request $i");
                $this->assertMatchesRegularExpression('/^[0-9a-f-]{36}$/', $added['idempotency-key']);
                $this->assertSame(self::KEY, $packageHeaders['x-websocket-api-key']);
            } else {
                $this->assertSame([], $added, 'GET /health: no header added, no API key');
            }
        }
    }

    public function test_the_guides_controllers_work_unchanged_against_a_real_node(): void
    {
        $node = self::realNode();
        $listener = $this->listener($node, 42);
        [$server, $url] = self::$packageApp->serve(['WEBSOCKET_SERVER_URL' => $node->url(), 'WEBSOCKET_API_KEY' => RealtimeNode::API_KEY]);
        $this->defer($server->stop(...));
        $http = new \GuzzleHttp\Client(['base_uri' => $url, 'http_errors' => false, 'timeout' => 10]);

        $health = $http->get('/api/realtime/test');
        $this->assertSame('success', json_decode((string) $health->getBody(), true)['status'] ?? null, (string) $health->getBody());

        $sent = $http->post('/api/notifications/send', [
            'headers' => ['Accept' => 'application/json', 'X-Harness-User-Id' => '5', 'X-Harness-User-Name' => 'Alice'],
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

        $run = self::$packageApp->artisan(['realtime:test'], ['WEBSOCKET_SERVER_URL' => $node->url(), 'WEBSOCKET_API_KEY' => RealtimeNode::API_KEY]);

        $this->assertSame(0, $run['exit'], $run['stdout'].$run['stderr']);
        $this->assertStringContainsString("Connection successful!\nServer status: ok\n", $run['stdout']);
        $this->assertStringContainsString('API key: accepted', $run['stdout']);
    }

    public function test_realtime_test_fails_on_a_degraded_server_even_with_a_200(): void
    {
        self::$stub->post('/__stub/config', ['GET /health' => ['status' => 200, 'body' => ['status' => 'degraded']]]);

        $guide = self::$guideApp->artisan(['realtime:test'], self::env());
        $package = self::$packageApp->artisan(['realtime:test'], self::env());

        $this->assertSame(0, $guide['exit'], 'the guide counts any 2xx as success');
        $this->assertSame(1, $package['exit'], $package['stdout']);
        $this->assertStringContainsString('Connection failed!', $package['stdout'].$package['stderr']);
        $this->assertStringContainsString('Server status: degraded', $package['stdout']);
    }

    public function test_realtime_test_fails_when_the_node_rejects_the_key(): void
    {
        $node = self::realNode();

        $run = self::$packageApp->artisan(['realtime:test'], ['WEBSOCKET_SERVER_URL' => $node->url(), 'WEBSOCKET_API_KEY' => 'not-the-key-0123456789']);

        $this->assertSame(1, $run['exit']);
        $this->assertStringContainsString('Server status: ok', $run['stdout']);
        $this->assertStringContainsString('API key: rejected (401 unauthorized)', $run['stdout'].$run['stderr']);
    }

    public function test_realtime_test_fails_when_the_server_is_down(): void
    {
        $run = self::$packageApp->artisan(['realtime:test'], self::env(['WEBSOCKET_SERVER_URL' => 'http://127.0.0.1:'.Paths::freePort()]));

        $this->assertSame(1, $run['exit']);
        $this->assertStringContainsString('Error: Connection error: cURL error 7', $run['stdout']);
    }

    public function test_a_missing_api_key_is_a_clear_message_not_a_type_error(): void
    {
        // "null" is how the harness unsets a key its .env defines (env() turns it into null).
        $env = self::env(['WEBSOCKET_API_KEY' => 'null']);

        $guide = self::$guideApp->artisan(['harness:seed-calls', '--call=sendNotificationToUser'], $env);
        $package = self::$packageApp->artisan(['harness:seed-calls', '--call=sendNotificationToUser'], $env);
        $sent = self::$stub->requests('/__stub/requests');
        $command = self::$packageApp->artisan(['realtime:test'], $env);

        $this->assertSame(2, $guide['exit']);
        $this->assertStringContainsString('TypeError', $guide['stdout']);
        $this->assertSame(1, $package['exit'], 'the call returns false');
        $this->assertSame(false, json_decode(trim($package['stdout']), true)['result']);
        $this->assertSame([], $sent, 'nothing is sent without a key');
        $this->assertSame(1, $command['exit']);
        $this->assertStringContainsString('API key: not configured (set WEBSOCKET_API_KEY', $command['stdout'].$command['stderr']);
        $this->assertStringNotContainsString('TypeError', $package['stdout'].$command['stdout'].$command['stderr']);
    }

    public function test_the_config_is_publishable(): void
    {
        $app = LaravelApp::package();
        $this->defer($app->remove(...));

        $run = $app->artisan(['vendor:publish', '--tag=realtime-config']);

        $this->assertSame(0, $run['exit'], $run['stdout'].$run['stderr']);
        $this->assertFileEquals(Paths::package('config/websocket.php'), $app->path('config/websocket.php'));
    }
}
