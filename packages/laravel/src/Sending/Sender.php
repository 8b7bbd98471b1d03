<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Sending;

use MechaMap\Realtime\Client\ApiResponse;
use MechaMap\Realtime\Client\RealtimeClient;
use Psr\Log\LoggerInterface;
use stdClass;
use Throwable;

/**
 * Broadcasts to the realtime API: one POST per call under an idempotency key, the result as a
 * bool, every failure logged with its context (never the API key), nothing thrown.
 */
final class Sender
{
    private const LOGGED_BODY_LIMIT = 500;

    public function __construct(
        private readonly RealtimeClient $client,
        private readonly LoggerInterface $logger,
    ) {
    }

    /** POST /api/broadcast; true when accepted. A failure is logged as `$errorMessage` (no answer) or a warning. */
    public function send(array $body, ?string $idempotencyKey, string $errorMessage, array $context): bool
    {
        $context = ['event' => $body['event'] ?? null, 'to' => $body['to'] ?? null] + $context;

        return $this->guarded($context, function () use ($body, $idempotencyKey, $errorMessage, $context): bool {
            $response = $this->client->post('/api/broadcast', $body, $idempotencyKey ?? RealtimeClient::newIdempotencyKey());
            if ($response->successful()) {
                return true;
            }
            $this->logFailure($response, 'Realtime broadcast rejected', $errorMessage, $context);

            return false;
        });
    }

    /**
     * POST /api/broadcast/batch in chunks of `$max`. Each item without an `id` gets one, so a
     * retried batch delivers nothing twice. True when every item was accepted.
     *
     * @param list<mixed> $broadcasts
     */
    public function batch(array $broadcasts, int $max): bool
    {
        return $this->guarded(['count' => count($broadcasts)], function () use ($broadcasts, $max): bool {
            $items = [];
            foreach (array_values($broadcasts) as $index => $item) {
                if (! is_array($item)) {
                    $this->logger->error('Realtime batch not sent: every item must be an array', ['index' => $index]);

                    return false;
                }
                $item['id'] ??= RealtimeClient::newIdempotencyKey();
                $item['data'] = is_array($item['data'] ?? null) ? self::object($item['data']) : ($item['data'] ?? new stdClass());
                $items[] = $item;
            }

            $allSent = true;
            foreach (array_chunk($items, $max) as $index => $chunk) {
                $response = $this->client->post('/api/broadcast/batch', ['broadcasts' => $chunk]);
                if (! $response->successful()) {
                    $this->logFailure($response, 'Realtime batch rejected', 'Error sending realtime batch', [
                        'count' => count($chunk), 'chunk' => $index,
                    ]);
                    $allSent = false;
                }
            }

            return $allSent;
        });
    }

    /** Last line of defence of "never throws": the client already turns failures into results. */
    public function guarded(array $context, callable $work): bool
    {
        try {
            return $work();
        } catch (Throwable $e) {
            $this->logger->error('Unexpected error in realtime service', $context + [
                'error' => $this->client->redact(get_class($e).': '.$e->getMessage()),
            ]);

            return false;
        }
    }

    /** An HTTP answer is a warning (the server said no); no answer or no configuration is an error. */
    public function logFailure(ApiResponse $response, string $rejectedMessage, string $errorMessage, array $context): void
    {
        if ($response->status !== null) {
            $this->logger->warning($rejectedMessage, $context + [
                'status' => $response->status,
                'response' => $this->client->redact(mb_strimwidth($response->body, 0, self::LOGGED_BODY_LIMIT, '...')),
                'error_code' => $response->errorCode(),
                'attempts' => $response->attempts,
            ]);

            return;
        }

        $message = $response->outcome === ApiResponse::NOT_CONFIGURED
            ? 'Realtime is not configured: '.$response->error
            : $errorMessage;
        $this->logger->error($message, $context + [
            'error' => $response->error,
            'error_code' => $response->outcome,
            'attempts' => $response->attempts,
        ]);
    }

    public function client(): RealtimeClient
    {
        return $this->client;
    }

    /**
     * `data` must be a JSON object: an empty PHP array would encode as `[]` and be refused,
     * so it goes as `{}`. Non-empty arrays go unchanged (the guide's wire format).
     */
    public static function object(array $data): array|stdClass
    {
        return $data === [] ? new stdClass() : $data;
    }
}
