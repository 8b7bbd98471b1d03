<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Client;

use Throwable;

/**
 * GET /health, answered the way the guide's testConnection() did. `status` is "success" only for a
 * 2xx whose body says `"status":"ok"`: a node that answers `degraded` or `draining` cannot deliver.
 */
final class ConnectionCheck
{
    public function __construct(private readonly RealtimeClient $client)
    {
    }

    /** @return array{status: string, message: string, data?: mixed, http_status?: int} */
    public function run(): array
    {
        try {
            $response = $this->client->health();
            if ($response->status === null) {
                return ['status' => 'error', 'message' => 'Connection error: '.$response->error];
            }

            $serverStatus = $response->json['status'] ?? null;
            if ($response->successful() && $serverStatus === 'ok') {
                return ['status' => 'success', 'message' => 'Connection successful', 'data' => $response->json];
            }

            $result = [
                'status' => 'error',
                'message' => $response->successful()
                    ? sprintf('Server status is "%s", not "ok"', is_string($serverStatus) ? $serverStatus : 'unknown')
                    : 'Connection failed',
                'http_status' => $response->status,
            ];

            return $response->json === null ? $result : $result + ['data' => $response->json];
        } catch (Throwable $e) {
            return ['status' => 'error', 'message' => 'Connection error: '.$this->client->redact($e->getMessage())];
        }
    }
}
