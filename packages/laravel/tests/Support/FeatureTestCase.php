<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Tests\Support;

use Illuminate\Auth\GenericUser;
use Illuminate\Foundation\Application;
use MechaMap\Realtime\Auth\RealtimeTokenIssuer;
use PHPUnit\Framework\TestCase;

/**
 * Feature tests own their infrastructure: what a test starts is stopped by the cleanups it
 * registers (in reverse order), per test or per class.
 */
abstract class FeatureTestCase extends TestCase
{
    /** @var list<callable> */
    private array $cleanups = [];
    /** @var array<class-string, list<callable>> */
    private static array $classCleanups = [];
    private static ?LaravelApp $inProcessApp = null;

    protected function defer(callable $cleanup): void
    {
        $this->cleanups[] = $cleanup;
    }

    protected static function deferForClass(callable $cleanup): void
    {
        self::$classCleanups[static::class][] = $cleanup;
    }

    protected function tearDown(): void
    {
        while ($cleanup = array_pop($this->cleanups)) {
            $cleanup();
        }
    }

    public static function tearDownAfterClass(): void
    {
        $cleanups = self::$classCleanups[static::class] ?? [];
        unset(self::$classCleanups[static::class]);
        while ($cleanup = array_pop($cleanups)) {
            $cleanup();
        }
    }

    /** A socket of user $userId, subscribed to $subscriptions, closed after this test. */
    protected function listener(RealtimeNode $node, int $userId, array $subscriptions = []): SocketListener
    {
        $listener = SocketListener::connect($node->url(), self::tokenFor($userId), $subscriptions);
        $this->defer($listener->stop(...));

        return $listener;
    }

    /** A realtime node stopped after the last test of the class. */
    protected static function classNode(array $env = []): RealtimeNode
    {
        $node = RealtimeNode::start($env);
        self::deferForClass($node->stop(...));

        return $node;
    }

    protected static function classListener(RealtimeNode $node, int $userId, array $subscriptions = []): SocketListener
    {
        $listener = SocketListener::connect($node->url(), self::tokenFor($userId), $subscriptions);
        self::deferForClass($listener->stop(...));

        return $listener;
    }

    /**
     * A copy of the test app, booted in this process with the given config
     * (websocket.server.url, websocket.api_key, ...). The copy is shared by every test of the
     * run; each call gives a fresh Application.
     */
    protected static function bootPackageApp(array $config): Application
    {
        if (self::$inProcessApp === null) {
            self::$inProcessApp = LaravelApp::install();
            $app = self::$inProcessApp;
            register_shutdown_function(static fn () => $app->remove());
        }

        return self::$inProcessApp->boot($config + [
            'logging.channels.single.path' => self::$inProcessApp->path('storage/logs/in-process.log'),
        ]);
    }

    protected static function inProcessApp(): LaravelApp
    {
        return self::$inProcessApp ?? throw new \LogicException('bootPackageApp() first');
    }

    /** A frontend token from the package's issuer, as a controller would hand it to the browser. */
    protected static function tokenFor(int $userId, ?int $ttl = null, string $secret = RealtimeNode::JWT_SECRET): string
    {
        return (new RealtimeTokenIssuer($secret))->issue(new GenericUser(['id' => $userId]), $ttl);
    }
}
