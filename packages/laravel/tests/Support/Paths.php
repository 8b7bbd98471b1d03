<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Tests\Support;

final class Paths
{
    public static function package(string $relative = ''): string
    {
        return self::join(dirname(__DIR__, 2), $relative);
    }

    public static function repo(string $relative = ''): string
    {
        return self::join(dirname(__DIR__, 4), $relative);
    }

    /** The project's Laravel test app (tests/app), copied by LaravelApp before it is run. */
    public static function testApp(string $relative = ''): string
    {
        return self::join(dirname(__DIR__).'/app', $relative);
    }

    public static function fixture(string $relative): string
    {
        return self::join(dirname(__DIR__).'/fixtures', $relative);
    }

    /** @var array<string, true> temp dirs made by this run, removed at exit if a test could not */
    private static array $tempDirs = [];

    /** A new empty directory under the system temp dir. */
    public static function tempDir(string $prefix): string
    {
        $dir = sys_get_temp_dir().'/'.$prefix.bin2hex(random_bytes(6));
        mkdir($dir, 0700, true);
        if (self::$tempDirs === []) {
            register_shutdown_function(static function (): void {
                foreach (array_keys(self::$tempDirs) as $left) {
                    self::removeTree($left);
                }
            });
        }
        self::$tempDirs[$dir] = true;

        return $dir;
    }

    public static function removeTree(string $dir): void
    {
        unset(self::$tempDirs[$dir]);
        if (! is_dir($dir) || is_link($dir)) {
            @unlink($dir);

            return;
        }
        foreach (new \RecursiveIteratorIterator(
            new \RecursiveDirectoryIterator($dir, \FilesystemIterator::SKIP_DOTS),
            \RecursiveIteratorIterator::CHILD_FIRST,
        ) as $entry) {
            $entry->isDir() && ! $entry->isLink() ? rmdir($entry->getPathname()) : unlink($entry->getPathname());
        }
        rmdir($dir);
    }

    /** A TCP port nobody listens on right now (for servers that cannot take port 0). */
    public static function freePort(): int
    {
        $server = stream_socket_server('tcp://127.0.0.1:0');
        $port = (int) substr(strrchr(stream_socket_get_name($server, false), ':'), 1);
        fclose($server);

        return $port;
    }

    private static function join(string $root, string $relative): string
    {
        return $relative === '' ? $root : $root.'/'.ltrim($relative, '/');
    }
}
