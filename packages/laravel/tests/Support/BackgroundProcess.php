<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Tests\Support;

use RuntimeException;

/**
 * A child process started without a shell (so its pid is the program's), whose stdout is
 * read as JSON lines. Waiting means stream_select() on its stdout with a deadline, never a
 * fixed sleep. stop() sends SIGTERM, then SIGKILL after a grace period.
 */
final class BackgroundProcess
{
    /** @var list<self> still running, stopped at shutdown if a test forgot */
    private static array $live = [];

    /** @var resource */
    private $process;
    /** @var resource */
    private $stdin;
    /** @var resource */
    private $stdout;
    private string $buffer = '';
    /** @var list<string> */
    private array $rawLines = [];
    private ?int $exitCode = null;
    private string $stderrFile;

    /**
     * @param list<string> $command
     * @param array<string, string> $env added to a minimal environment (PATH, HOME), nothing else inherited
     */
    public function __construct(private readonly array $command, array $env = [], ?string $cwd = null, private readonly string $name = 'process')
    {
        $this->stderrFile = tempnam(sys_get_temp_dir(), 'rt-stderr-');
        $fullEnv = ['PATH' => (string) getenv('PATH'), 'HOME' => (string) (getenv('HOME') ?: sys_get_temp_dir())] + $env;
        $process = proc_open($command, [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['file', $this->stderrFile, 'a']], $pipes, $cwd, $fullEnv);
        if (! is_resource($process)) {
            throw new RuntimeException("could not start $name: ".implode(' ', $command));
        }
        $this->process = $process;
        [$this->stdin, $this->stdout] = [$pipes[0], $pipes[1]];
        stream_set_blocking($this->stdout, false);
        self::$live[spl_object_id($this)] = $this;
        static $registered = false;
        if (! $registered) {
            $registered = true;
            register_shutdown_function(static function (): void {
                foreach (self::$live as $process) {
                    $process->stop();
                }
            });
        }
    }

    /** Writes one line to the process's stdin (the Echo listener's commands). */
    public function send(string $line): void
    {
        fwrite($this->stdin, $line."\n");
        fflush($this->stdin);
    }

    public function pid(): int
    {
        return proc_get_status($this->process)['pid'];
    }

    public function isRunning(): bool
    {
        if ($this->exitCode !== null) {
            return false;
        }
        $status = proc_get_status($this->process);
        if (! $status['running']) {
            $this->exitCode = $status['exitcode'];

            return false;
        }

        return true;
    }

    /**
     * Reads until a JSON line satisfies $match (lines already read count too).
     *
     * @param callable(array): bool $match
     * @return array the matching line, decoded
     */
    public function waitFor(callable $match, float $timeout, string $what): array
    {
        $deadline = microtime(true) + $timeout;
        $checked = 0;
        while (true) {
            $lines = $this->jsonLines();
            for (; $checked < count($lines); $checked++) {
                if ($match($lines[$checked])) {
                    return $lines[$checked];
                }
            }
            $left = $deadline - microtime(true);
            if ($left <= 0) {
                throw new RuntimeException("$this->name: timed out after {$timeout}s waiting for $what\n".$this->describe());
            }
            if (! $this->read($left) && ! $this->isRunning()) {
                $this->read(0);
                foreach (array_slice($this->jsonLines(), $checked) as $line) {
                    if ($match($line)) {
                        return $line;
                    }
                }
                throw new RuntimeException("$this->name exited (code $this->exitCode) while waiting for $what\n".$this->describe());
            }
        }
    }

    /** @return list<array> every JSON line printed so far (other lines are skipped) */
    public function jsonLines(): array
    {
        $this->read(0);
        $decoded = [];
        foreach ($this->rawLines as $line) {
            $value = json_decode($line, true);
            if (is_array($value)) {
                $decoded[] = $value;
            }
        }

        return $decoded;
    }

    public function output(): string
    {
        $this->read(0);

        return implode("\n", $this->rawLines).$this->buffer;
    }

    public function stderr(): string
    {
        return (string) @file_get_contents($this->stderrFile);
    }

    /** SIGTERM, then SIGKILL if it is still there after $graceSeconds. Idempotent. */
    public function stop(float $graceSeconds = 5.0): void
    {
        if (! isset(self::$live[spl_object_id($this)])) {
            return;
        }
        unset(self::$live[spl_object_id($this)]);
        if ($this->isRunning()) {
            proc_terminate($this->process, 15);
            $this->awaitExit($graceSeconds) || proc_terminate($this->process, 9);
        }
        $this->read(0);
        @fclose($this->stdin);
        @fclose($this->stdout);
        proc_close($this->process);
        @unlink($this->stderrFile);
    }

    /** Waits for the process to end on its own. */
    public function awaitExit(float $timeout): bool
    {
        $deadline = microtime(true) + $timeout;
        while ($this->isRunning()) {
            if (microtime(true) >= $deadline) {
                return false;
            }
            // Drain stdout meanwhile so a chatty child never blocks on a full pipe.
            $this->read(0.02);
        }

        return true;
    }

    public function exitCode(): ?int
    {
        $this->isRunning();

        return $this->exitCode;
    }

    /**
     * Waits up to $timeout seconds for output and reads it; false when none of this process's
     * came. Every live process's stdout is read at the same time, so that no child ever blocks on
     * a full pipe while the tests wait on another one.
     */
    private function read(float $timeout): bool
    {
        $streams = [];
        foreach (self::$live + [spl_object_id($this) => $this] as $id => $process) {
            if (is_resource($process->stdout) && ! feof($process->stdout)) {
                $streams[$id] = $process->stdout;
            }
        }
        if (! isset($streams[spl_object_id($this)])) {
            // EOF already: the child is exiting; don't spin on a pipe that stays "ready".
            if ($timeout > 0) {
                usleep((int) (min($timeout, 0.02) * 1_000_000));
            }

            return false;
        }
        $read = array_values($streams);
        $write = $except = null;
        $seconds = (int) floor($timeout);
        if (! @stream_select($read, $write, $except, $seconds, (int) (($timeout - $seconds) * 1e6))) {
            return false;
        }
        $mine = false;
        foreach ($read as $stream) {
            $id = array_search($stream, $streams, true);
            $process = $id === spl_object_id($this) ? $this : self::$live[$id];
            $mine = $process->append((string) fread($stream, 65536)) && $id === spl_object_id($this) || $mine;
        }

        return $mine;
    }

    private function append(string $chunk): bool
    {
        if ($chunk === '') {
            return false;
        }
        $this->buffer .= $chunk;
        while (($pos = strpos($this->buffer, "\n")) !== false) {
            $this->rawLines[] = substr($this->buffer, 0, $pos);
            $this->buffer = substr($this->buffer, $pos + 1);
        }

        return true;
    }

    private function describe(): string
    {
        $out = $this->output();
        $err = $this->stderr();

        return '--- '.implode(' ', $this->command)."\n--- stdout:\n".substr($out, -4000)."\n--- stderr:\n".substr($err, -4000);
    }
}
