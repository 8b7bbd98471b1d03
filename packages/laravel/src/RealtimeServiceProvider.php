<?php

declare(strict_types=1);

namespace MechaMap\Realtime;

use Illuminate\Contracts\Foundation\Application;
use Illuminate\Http\Client\Factory;
use Illuminate\Support\Facades\Http;
use Illuminate\Support\ServiceProvider;
use MechaMap\Realtime\Auth\RealtimeTokenIssuer;
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

        $this->registerLegacyAlias();
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
