<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Tests\Support;

/** A private redis-server on a free loopback port, without persistence. */
final class RedisServer
{
    private function __construct(public readonly BackgroundProcess $process, public readonly int $port)
    {
    }

    public static function start(): self
    {
        $port = Paths::freePort();
        $process = new BackgroundProcess(
            ['redis-server', '--port', (string) $port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
            [],
            null,
            'redis-server',
        );
        $deadline = microtime(true) + 10;
        while (@stream_socket_client("tcp://127.0.0.1:$port", $errno, $error, 0.2) === false) {
            if (! $process->isRunning() || microtime(true) > $deadline) {
                throw new \RuntimeException('redis-server did not start: '.$process->stderr().$process->output());
            }
            $process->awaitExit(0.02);
        }

        return new self($process, $port);
    }

    public function url(): string
    {
        return 'redis://127.0.0.1:'.$this->port;
    }

    /** One command over RESP (what redis-cli would send), its integer or string answer as text (LLEN, ZCARD, LINDEX). */
    public function command(string ...$args): string
    {
        $socket = stream_socket_client("tcp://127.0.0.1:{$this->port}", $errno, $error, 2);
        $request = '*'.count($args)."\r\n";
        foreach ($args as $arg) {
            $request .= '$'.strlen($arg)."\r\n".$arg."\r\n";
        }
        fwrite($socket, $request);
        $line = (string) fgets($socket);
        // A bulk string: its length, then the string on the next line(s).
        if ($line[0] === '$' && (int) substr($line, 1) >= 0) {
            $line = '+'.stream_get_contents($socket, (int) substr($line, 1));
        }
        fclose($socket);

        return trim(substr($line, 1));
    }

    public function stop(): void
    {
        $this->process->stop();
    }
}
