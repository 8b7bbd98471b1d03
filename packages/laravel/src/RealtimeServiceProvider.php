<?php

declare(strict_types=1);

namespace MechaMap\Realtime;

use Illuminate\Broadcasting\BroadcastManager;
use Illuminate\Contracts\Bus\Dispatcher;
use Illuminate\Contracts\Foundation\Application;
use Illuminate\Http\Client\Factory;
use Illuminate\Support\Facades\Http;
use Illuminate\Support\ServiceProvider;
use MechaMap\Realtime\Auth\RealtimeTokenIssuer;
use MechaMap\Realtime\Broadcasting\DeliverBroadcast;
use MechaMap\Realtime\Broadcasting\Delivery;
use MechaMap\Realtime\Broadcasting\RealtimeBroadcaster;
use MechaMap\Realtime\Channels\ChannelAuthorizer;
use MechaMap\Realtime\Client\ClientConfig;
use MechaMap\Realtime\Client\RealtimeClient;
use MechaMap\Realtime\Console\TestRealtimeConnection;
use MechaMap\Realtime\Http\Middleware\VerifyRealtimeApiKey;
use Psr\Log\LoggerInterface;

/**
 * Auto-discovered (composer.json extra.laravel). Replaces the guide's
 * App\Providers\RealtimeServiceProvider.
 */
final class RealtimeServiceProvider extends ServiceProvider
{
    /** The class name the guide's controllers and commands type-hint. */
    public const LEGACY_SERVICE = 'App\\Services\\RealtimeNotificationService';

    public function register(): void
    {
        $this->mergeConfigFrom(__DIR__.'/../config/websocket.php', 'websocket');

        $this->app->singleton(RealtimeClient::class, static fn (Application $app): RealtimeClient => new RealtimeClient(
            // The Http facade's instance, resolved per request: the same one the guide's
            // Http::post() used, so an app's Http::fake() applies whenever it is called.
            static fn (): Factory => Http::getFacadeRoot(),
            ClientConfig::fromArray((array) $app['config']->get('websocket', [])),
            $app->make(LoggerInterface::class),
        ));

        $this->app->singleton(RealtimeNotificationService::class, static fn (Application $app) => new RealtimeNotificationService(
            $app->make(RealtimeClient::class),
            $app->make(LoggerInterface::class),
            (array) $app['config']->get('websocket.events', []),
        ));

        $this->app->singleton(ChannelAuthorizer::class, static fn (Application $app) => new ChannelAuthorizer($app));

        $this->app->singleton(RealtimeTokenIssuer::class, static fn (Application $app) => RealtimeTokenIssuer::fromConfig(
            (array) $app['config']->get('websocket.jwt', []),
            $app['config']->get('app.url'),
        ));

        $this->app->singleton(RealtimeBroadcaster::class, static fn (Application $app) => self::broadcaster($app));
        $this->registerBroadcastConnection();
        $this->callAfterResolving(BroadcastManager::class, static function (BroadcastManager $manager): void {
            $manager->extend('realtime', static fn (Application $app): RealtimeBroadcaster => $app->make(RealtimeBroadcaster::class));
        });

        $this->registerLegacyAlias();
    }

    /**
     * `BROADCAST_DRIVER=realtime` (Laravel 8-10) or `BROADCAST_CONNECTION=realtime` (11) works
     * without editing config/broadcasting.php: the connection is added when the app has none of
     * that name. An app's own `'realtime' => ['driver' => 'realtime', ...]` is left as it is.
     */
    private function registerBroadcastConnection(): void
    {
        $config = $this->app['config'];
        if (! is_array($config->get('broadcasting.connections.realtime'))) {
            $config->set('broadcasting.connections.realtime', ['driver' => 'realtime']);
        }
    }

    /**
     * The driver hands what the cluster could not take to the queue when the app has one: the
     * connection `websocket.queue.connection` (else the app's default), unless that is `sync` or
     * `null`, in which case a failed broadcast throws (nothing would ever retry it).
     */
    private static function broadcaster(Application $app): RealtimeBroadcaster
    {
        $config = (array) $app['config']->get('websocket.queue', []);
        $connection = $config['connection'] ?? $app['config']->get('queue.default');
        $driver = is_string($connection) ? $app['config']->get("queue.connections.{$connection}.driver") : null;
        $hasQueue = ($config['enabled'] ?? true) && is_string($driver) && ! in_array($driver, ['sync', 'null'], true);
        $tries = max(1, (int) ($config['tries'] ?? 10));
        $backoff = array_values(array_map('intval', (array) ($config['backoff'] ?? [1, 5, 10, 30, 60])));

        return new RealtimeBroadcaster(
            $app->make(RealtimeClient::class),
            $app->make(LoggerInterface::class),
            $hasQueue ? static function (DeliverBroadcast $job) use ($app, $connection, $config): void {
                $job->onConnection($connection);
                if (is_string($config['queue'] ?? null) && $config['queue'] !== '') {
                    $job->onQueue($config['queue']);
                }
                $app->make(Dispatcher::class)->dispatch($job);
            } : null,
            static fn (Delivery $delivery): DeliverBroadcast => new DeliverBroadcast($delivery, $tries, $backoff),
        );
    }

    public function boot(): void
    {
        if ($this->app->runningInConsole()) {
            $this->publishes([__DIR__.'/../config/websocket.php' => $this->app->configPath('websocket.php')], 'realtime-config');
            $this->commands([TestRealtimeConnection::class]);
        }

        $this->app['router']->aliasMiddleware('realtime.key', VerifyRealtimeApiKey::class);

        if ((bool) $this->app['config']->get('websocket.routes.enabled', true)) {
            $this->loadRoutesFrom(__DIR__.'/../routes/realtime.php');
        }
    }

    /**
     * Once the app deletes the guide's app/Services/RealtimeNotificationService.php, that class
     * name becomes an alias of the package's service, so the guide's controllers (which
     * `use App\Services\RealtimeNotificationService`) keep working unchanged. An app that still
     * has its own class keeps it: class_exists() loads it first and nothing is aliased.
     */
    private function registerLegacyAlias(): void
    {
        if (! $this->app['config']->get('websocket.legacy_alias', true)) {
            return;
        }
        if (! class_exists(self::LEGACY_SERVICE)) {
            class_alias(RealtimeNotificationService::class, self::LEGACY_SERVICE);
        }
        if ((new \ReflectionClass(self::LEGACY_SERVICE))->getName() === RealtimeNotificationService::class) {
            $this->app->alias(RealtimeNotificationService::class, self::LEGACY_SERVICE);
        }
    }
}
