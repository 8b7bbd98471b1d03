<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Broadcasting;

use Illuminate\Broadcasting\BroadcastException;
use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Queue\InteractsWithQueue;
use MechaMap\Realtime\Client\RealtimeClient;
use Psr\Log\LoggerInterface;
use Throwable;

/**
 * A broadcast the realtime cluster could not take when it was made (no answer, 429, 5xx), retried
 * by the app's queue: `$tries` attempts, `$backoff` seconds apart (or the server's Retry-After), each
 * with the same request and idempotency key, so it is delivered once however many attempts it
 * takes. A refusal that no retry can change (401, 422, ...) fails the job at once.
 */
final class DeliverBroadcast implements ShouldQueue
{
    use InteractsWithQueue;
    use Queueable;

    /** @param list<int> $backoff seconds before each retry */
    public function __construct(
        public readonly Delivery $delivery,
        public int $tries = 10,
        public array $backoff = [1, 5, 10, 30, 60],
    ) {
    }

    public function handle(RealtimeClient $client, LoggerInterface $logger): void
    {
        $d = $this->delivery;
        $response = $client->post($d->path, $d->body, $d->idempotencyKey, $d->socketId);
        $context = ['channels' => $d->channels(), 'event' => $this->event(), 'idempotency_key' => $this->key(), 'attempt' => $this->attempts()];
        if ($response->successful()) {
            $logger->info('Queued realtime broadcast delivered', $context);

            return;
        }
        $context += ['status' => $response->status, 'error_code' => $response->errorCode(), 'error' => $response->error];
        if (! $response->retriable()) {
            $logger->error('Queued realtime broadcast refused', $context);
            $this->fail(new BroadcastException('Realtime broadcast refused: '.$response->errorCode()));

            return;
        }
        if ($response->retryAfter !== null) {
            $logger->notice('Queued realtime broadcast rate-limited, released', $context + ['retry_after' => $response->retryAfter]);
            $this->release($response->retryAfter);

            return;
        }
        // The queue tries again after $backoff.
        throw new BroadcastException('Realtime cluster unavailable: '.($response->errorCode() ?? 'no answer'));
    }

    public function failed(Throwable $e): void
    {
        app(LoggerInterface::class)->error('Queued realtime broadcast given up', [
            'channels' => $this->delivery->channels(), 'event' => $this->event(),
            'idempotency_key' => $this->key(), 'error' => $e->getMessage(),
        ]);
    }

    private function event(): ?string
    {
        $body = $this->delivery->body;

        return $body['event'] ?? ($body['broadcasts'][0]['event'] ?? null);
    }

    private function key(): ?string
    {
        return $this->delivery->idempotencyKey ?? ($this->delivery->body['broadcasts'][0]['id'] ?? null);
    }
}
