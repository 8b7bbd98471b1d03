<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Tests\Support;

use Illuminate\Contracts\Console\Kernel as ConsoleKernel;
use Illuminate\Foundation\Application;
use RuntimeException;

/**
 * A writable copy of the harness's Laravel 8 app (Debian packages, no Composer).
 *
 * - guide():   the copy as it is: the integration guide's code, verbatim.
 * - package(): the guide's service, provider, command and config deleted, and this package
 *              installed the way Composer would: discovered from vendor/composer/installed.json
 *              (built from our composer.json), autoloaded by PSR-4. The framework providers every
 *              Laravel app has (cache, console support, queue, database) are added, plus
 *              tests/fixtures/app (channel rules, gates, presence listeners writing a file).
 */
final class LaravelApp
{
    private static ?string $bootedInProcess = null;

    private function __construct(public readonly string $root)
    {
    }

    public static function guide(): self
    {
        return self::copy('rt-guide-app-');
    }

    public static function package(): self
    {
        $app = self::copy('rt-package-app-');
        $app->installPackage();

        return $app;
    }

    private static function copy(string $prefix): self
    {
        $app = new self(Paths::tempDir($prefix));
        Paths::copyTree(Paths::harness('app-skeleton'), $app->root);
        $app->makeWritable();

        return $app;
    }

    public function path(string $relative = ''): string
    {
        return $relative === '' ? $this->root : $this->root.'/'.ltrim($relative, '/');
    }

    /**
     * Runs `php artisan ...` in the copy and waits for it.
     *
     * @param list<string> $args
     * @param array<string, string> $env real environment variables win over the copy's .env
     * @return array{exit: int, stdout: string, stderr: string}
     */
    public function artisan(array $args, array $env = [], float $timeout = 30): array
    {
        $process = new BackgroundProcess(array_merge([PHP_BINARY, 'artisan'], $args), $env, $this->root, 'artisan '.($args[0] ?? ''));
        if (! $process->awaitExit($timeout)) {
            $process->stop();
            throw new RuntimeException("artisan {$args[0]} did not finish within {$timeout}s");
        }
        $result = ['exit' => (int) $process->exitCode(), 'stdout' => $process->output(), 'stderr' => $process->stderr()];
        $process->stop();

        return $result;
    }

    /** `php -S` on a free port with the app's front controller; returns [process, base URL]. */
    public function serve(array $env): array
    {
        $port = Paths::freePort();
        $process = new BackgroundProcess(
            [PHP_BINARY, '-S', "127.0.0.1:$port", 'public/index.php'],
            $env,
            $this->root,
            'php -S (laravel)',
        );
        $url = "http://127.0.0.1:$port";
        $deadline = microtime(true) + 10;
        // php -S announces itself on stderr, which is a file here: wait for the port to accept.
        while (! $this->accepts($port)) {
            if (! $process->isRunning() || microtime(true) > $deadline) {
                throw new RuntimeException("php -S did not start\n".$process->stderr());
            }
            $process->awaitExit(0.02);
        }

        return [$process, $url];
    }

    /**
     * Boots the package copy inside this PHPUnit process (like Laravel's own TestCase does),
     * with $config set on top of its config before anything is resolved. One copy per process:
     * its App\ classes are autoloaded from its folder.
     */
    public function boot(array $config = []): Application
    {
        if (self::$bootedInProcess !== null && self::$bootedInProcess !== $this->root) {
            throw new RuntimeException('only one harness copy can be booted in-process');
        }
        self::$bootedInProcess = $this->root;
        require_once $this->path('bootstrap/autoload.php');

        /** @var Application $app */
        $app = require $this->path('bootstrap/app.php');
        $app->make(ConsoleKernel::class)->bootstrap();
        foreach ($config as $key => $value) {
            $app['config']->set($key, $value);
        }

        return $app;
    }

    public function remove(): void
    {
        Paths::removeTree($this->root);
    }

    private function makeWritable(): void
    {
        foreach (['storage/logs', 'storage/framework/cache', 'storage/framework/views', 'bootstrap/cache'] as $dir) {
            @mkdir($this->path($dir), 0700, true);
        }
        // Caches a run in the original folder may have left: this copy builds its own.
        foreach (glob($this->path('bootstrap/cache/*.php')) ?: [] as $cache) {
            unlink($cache);
        }
    }

    private function installPackage(): void
    {
        foreach ([
            'app/Services/RealtimeNotificationService.php',
            'app/Providers/RealtimeServiceProvider.php',
            'app/Console/Commands/TestRealtimeConnection.php',
            'config/websocket.php',
        ] as $guideFile) {
            $this->mustUnlink($guideFile);
        }

        $this->edit('config/app.php', [
            "        App\\Providers\\RealtimeServiceProvider::class,\n" => "        App\\Providers\\RealtimeFixtureServiceProvider::class,\n",
            "        Illuminate\\Auth\\AuthServiceProvider::class,\n" => "        Illuminate\\Auth\\AuthServiceProvider::class,\n"
                ."        Illuminate\\Cache\\CacheServiceProvider::class,\n"
                ."        Illuminate\\Database\\DatabaseServiceProvider::class,\n"
                ."        Illuminate\\Foundation\\Providers\\ConsoleSupportServiceProvider::class,\n"
                ."        Illuminate\\Pipeline\\PipelineServiceProvider::class,\n"
                ."        Illuminate\\Queue\\QueueServiceProvider::class,\n",
        ]);
        $this->edit('app/Console/Kernel.php', ["        Commands\\TestRealtimeConnection::class,   // realtime:test (verbatim from the guide)\n" => '']);

        // Let package discovery run (the harness opts out of it), and list this package as installed.
        $composer = json_decode((string) file_get_contents($this->path('composer.json')), true, 512, JSON_THROW_ON_ERROR);
        unset($composer['extra']['laravel']['dont-discover']);
        file_put_contents($this->path('composer.json'), json_encode($composer, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES));
        $package = json_decode((string) file_get_contents(Paths::package('composer.json')), true, 512, JSON_THROW_ON_ERROR);
        @mkdir($this->path('vendor/composer'), 0700, true);
        file_put_contents($this->path('vendor/composer/installed.json'), json_encode(['packages' => [$package + ['version' => 'dev-main']]], JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES));

        file_put_contents(
            $this->path('bootstrap/autoload.php'),
            "\n// mechamap/realtime-laravel, PSR-4 (what Composer's autoloader would do)\nrequire_once ".var_export(Paths::package('tests/autoload.php'), true).";\n",
            FILE_APPEND,
        );
        Paths::copyTree(Paths::fixture('app'), $this->root);
    }

    private function mustUnlink(string $relative): void
    {
        if (! unlink($this->path($relative))) {
            throw new RuntimeException("harness changed: $relative is missing");
        }
    }

    /** @param array<string, string> $replacements each must occur exactly once */
    private function edit(string $relative, array $replacements): void
    {
        $text = (string) file_get_contents($this->path($relative));
        foreach ($replacements as $from => $to) {
            if (substr_count($text, $from) !== 1) {
                throw new RuntimeException("harness changed: expected one ".json_encode($from)." in $relative");
            }
            $text = str_replace($from, $to, $text);
        }
        file_put_contents($this->path($relative), $text);
    }

    private function accepts(int $port): bool
    {
        $socket = @stream_socket_client("tcp://127.0.0.1:$port", $errno, $error, 0.2);
        if ($socket === false) {
            return false;
        }
        fclose($socket);

        return true;
    }
}
