<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Tests\Unit;

use MechaMap\Realtime\Tests\Support\Paths;
use PHPUnit\Framework\TestCase;

/** composer.json is what Composer and Laravel's package discovery read: keep it loadable. */
final class PackageManifestTest extends TestCase
{
    private static function composer(): array
    {
        return json_decode((string) file_get_contents(Paths::package('composer.json')), true, 512, JSON_THROW_ON_ERROR);
    }

    public function test_name_php_and_illuminate_versions(): void
    {
        $composer = self::composer();

        $this->assertSame('mechamap/realtime-laravel', $composer['name']);
        $this->assertSame('^8.1', $composer['require']['php']);
        $illuminate = array_filter($composer['require'], static fn (string $name): bool => str_starts_with($name, 'illuminate/'), ARRAY_FILTER_USE_KEY);
        $this->assertNotEmpty($illuminate);
        foreach ($illuminate as $name => $constraint) {
            $this->assertSame('^8.0|^9.0|^10.0|^11.0', $constraint, $name);
        }
    }

    public function test_the_psr4_root_holds_every_class_under_its_namespace(): void
    {
        $this->assertSame(['MechaMap\\Realtime\\' => 'src/'], self::composer()['autoload']['psr-4']);

        $files = new \RecursiveIteratorIterator(new \RecursiveDirectoryIterator(Paths::package('src'), \FilesystemIterator::SKIP_DOTS));
        $count = 0;
        foreach ($files as $file) {
            $class = 'MechaMap\\Realtime\\'.str_replace('/', '\\', substr($file->getPathname(), strlen(Paths::package('src/')), -4));
            $this->assertTrue(class_exists($class) || interface_exists($class), "$class does not load from {$file->getPathname()}");
            $count++;
        }
        $this->assertGreaterThan(10, $count);
    }

    public function test_laravel_discovers_the_provider_and_facades(): void
    {
        $laravel = self::composer()['extra']['laravel'];

        $this->assertSame(['MechaMap\\Realtime\\RealtimeServiceProvider'], $laravel['providers']);
        foreach ([...$laravel['providers'], ...array_values($laravel['aliases'])] as $class) {
            $this->assertTrue(class_exists($class), $class);
        }
    }

    public function test_the_published_config_has_every_key_of_the_guides(): void
    {
        $ours = self::flatKeys(self::load(Paths::package('config/websocket.php')));

        $this->assertSame([], array_values(array_diff(self::GUIDE_KEYS, $ours)));
    }

    /** Every key of the integration guide's config/websocket.php, nested keys dotted. */
    private const GUIDE_KEYS = [
        'server', 'server.url', 'server.host', 'server.port', 'server.secure', 'api_key', 'api_key_hash',
        'broadcasting', 'broadcasting.url', 'broadcasting.timeout', 'broadcasting.retry_attempts',
        'events', 'events.notification', 'events.thread_updated', 'events.new_reply', 'events.user_online', 'events.user_offline',
    ];

    private static function load(string $file): array
    {
        // The config files call env(); Laravel's helper reads the (empty) test environment.
        return require $file;
    }

    private static function flatKeys(array $config, string $prefix = ''): array
    {
        $keys = [];
        foreach ($config as $key => $value) {
            $keys[] = $prefix.$key;
            if (is_array($value) && $value !== [] && ! array_is_list($value)) {
                $keys = array_merge($keys, self::flatKeys($value, $prefix.$key.'.'));
            }
        }

        return $keys;
    }
}
