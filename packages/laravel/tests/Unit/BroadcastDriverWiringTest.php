<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Tests\Unit;

use Illuminate\Broadcasting\BroadcastException;
use Illuminate\Broadcasting\BroadcastManager;
use Illuminate\Config\Repository;
use Illuminate\Contracts\Bus\Dispatcher;
use Illuminate\Foundation\Application;
use Illuminate\Http\Client\Factory;
use Illuminate\Support\Facades\Facade;
use MechaMap\Realtime\Broadcasting\DeliverBroadcast;
use MechaMap\Realtime\Broadcasting\RealtimeBroadcaster;
use MechaMap\Realtime\RealtimeServiceProvider;
use MechaMap\Realtime\Tests\Support\FakeRealtimeApi;
use PHPUnit\Framework\TestCase;
use Psr\Log\LoggerInterface;

/** The provider as Laravel runs it: `'driver' => 'realtime'` resolves, and the queue hand-over follows the app's queue. */
final class BroadcastDriverWiringTest extends TestCase
{
    private FakeRealtimeApi $api;
    /** @var list<object> */
    private array $dispatched = [];

    protected function setUp(): void
    {
        $this->api = new FakeRealtimeApi();
    }

    protected function tearDown(): void
    {
        Facade::clearResolvedInstances();
        Facade::setFacadeApplication(null);
    }

    private function app(array $config): Application
    {
        $app = new Application(sys_get_temp_dir());
        $app->instance('config', new Repository(array_replace_recursive([
            'app' => ['url' => 'http://localhost'],
            'broadcasting' => ['default' => 'realtime', 'connections' => ['log' => ['driver' => 'log']]],
            'queue' => ['default' => 'database', 'connections' => [
                'sync' => ['driver' => 'sync'], 'database' => ['driver' => 'database'], 'none' => ['driver' => 'null'],
            ]],
            'websocket' => ['server' => ['url' => 'http://127.0.0.1:3000'], 'api_key' => FakeRealtimeApi::KEY,
                'broadcasting' => ['retry_attempts' => 0]],
        ], $config)));
        $app->instance(LoggerInterface::class, $this->api->logger);
        $app->instance(Factory::class, $this->api->http);
        $app->instance(Dispatcher::class, $this->dispatcher());
        Facade::setFacadeApplication($app);
        $app->register(RealtimeServiceProvider::class);
        $app->singleton(BroadcastManager::class, static fn ($app) => new BroadcastManager($app));

        return $app;
    }

    public function test_the_realtime_connection_exists_and_resolves_to_the_driver_without_editing_broadcasting_php(): void
    {
        $app = $this->app([]);

        $this->assertSame(['driver' => 'realtime'], $app['config']->get('broadcasting.connections.realtime'));
        $this->assertInstanceOf(RealtimeBroadcaster::class, $app->make(BroadcastManager::class)->connection());
    }

    public function test_an_apps_own_realtime_connection_is_kept(): void
    {
        $app = $this->app(['broadcasting' => ['connections' => ['realtime' => ['driver' => 'realtime', 'note' => 'mine']]]]);

        $this->assertSame('mine', $app['config']->get('broadcasting.connections.realtime.note'));
    }

    public function test_with_a_queue_a_failed_broadcast_is_dispatched_on_the_configured_connection_and_queue(): void
    {
        $this->api->answer('refused');
        $app = $this->app(['websocket' => ['queue' => ['queue' => 'realtime', 'tries' => 4, 'backoff' => [3]]]]);

        $app->make(BroadcastManager::class)->connection()->broadcast(['news'], 'posted', ['n' => 1]);

        $this->assertCount(1, $this->dispatched);
        $job = $this->dispatched[0];
        $this->assertInstanceOf(DeliverBroadcast::class, $job);
        $this->assertSame(['database', 'realtime', 4, [3]], [$job->connection, $job->queue, $job->tries, $job->backoff]);
    }

    /** @dataProvider noQueue */
    public function test_without_a_queue_a_failed_broadcast_throws(array $config): void
    {
        $this->api->answer('refused');
        $app = $this->app($config);

        try {
            $app->make(BroadcastManager::class)->connection()->broadcast(['news'], 'posted', []);
            $this->fail('no exception');
        } catch (BroadcastException) {
            $this->assertSame([], $this->dispatched);
        }
    }

    public static function noQueue(): array
    {
        return [
            'sync default' => [['queue' => ['default' => 'sync']]],
            'null driver' => [['websocket' => ['queue' => ['connection' => 'none']]]],
            'turned off' => [['websocket' => ['queue' => ['enabled' => false]]]],
        ];
    }

    private function dispatcher(): Dispatcher
    {
        $dispatched = &$this->dispatched;

        return new class($dispatched) implements Dispatcher {
            public function __construct(private array &$dispatched)
            {
            }

            public function dispatch($command)
            {
                $this->dispatched[] = $command;
            }

            public function dispatchSync($command, $handler = null)
            {
                $this->dispatched[] = $command;
            }

            public function dispatchNow($command, $handler = null)
            {
                $this->dispatched[] = $command;
            }

            public function hasCommandHandler($command)
            {
                return false;
            }

            public function getCommandHandler($command)
            {
                return false;
            }

            public function pipeThrough(array $pipes)
            {
                return $this;
            }

            public function map(array $map)
            {
                return $this;
            }
        };
    }
}
