<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Tests\Support;

use Illuminate\Contracts\Console\Kernel as ConsoleKernel;
use Illuminate\Foundation\Application;
use RuntimeException;

/**
 * A writable copy of the project's Laravel 8 test app (tests/app: Debian's framework packages, no
 * Composer) with this package installed by tests/app/install.php, the way Composer would:
 * discovered from vendor/composer/installed.json, autoloaded by PSR-4. The app's own provider
 * (ForumRealtimeServiceProvider) holds the channel rules, Gates and presence listeners.
 */
final class LaravelApp
{
    private static ?string $bootedInProcess = null;

    private function __construct(public readonly string $root)
    {
    }

    public static function install(): self
    {
        $app = new self(Paths::tempDir('rt-laravel-app-'));
        exec(escapeshellarg(PHP_BINARY).' '.escapeshellarg(Paths::testApp('install.php')).' '.escapeshellarg($app->root).' 2>&1', $output, $exit);
        if ($exit !== 0) {
            throw new RuntimeException("tests/app/install.php failed:\n".implode("\n", $output));
        }

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
            throw new RuntimeException('only one copy of the app can be booted in-process');
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
