<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Console;

use Illuminate\Console\Command;
use MechaMap\Realtime\Client\RealtimeClient;
use MechaMap\Realtime\RealtimeNotificationService;

/**
 * `php artisan realtime:test`: the guide's command, plus two checks it lacked. Success
 * needs `/health` to say `"status":"ok"` (a 2xx `degraded` is a failure) and the API key
 * to be accepted by an authenticated request.
 */
final class TestRealtimeConnection extends Command
{
    protected $signature = 'realtime:test';

    protected $description = 'Test connection to realtime server';

    public function handle(RealtimeNotificationService $realtimeService, RealtimeClient $client): int
    {
        $this->info('Testing realtime server connection...');

        $result = $realtimeService->testConnection();
        $healthy = $result['status'] === 'success';
        $serverStatus = $result['data']['status'] ?? null;

        if ($healthy) {
            $this->info('✅ Connection successful!');
            $this->line('Server status: '.$serverStatus);
        } else {
            $this->error('❌ Connection failed!');
            $this->line('Error: '.$result['message']);
            if (is_string($serverStatus)) {
                $this->line('Server status: '.$serverStatus);
            }
        }
        $this->line('Server URL: '.($client->config()->baseUrl !== '' ? $client->config()->baseUrl : '(not set)'));

        return $healthy && $this->checkApiKey($client) ? self::SUCCESS : self::FAILURE;
    }

    private function checkApiKey(RealtimeClient $client): bool
    {
        if ($client->config()->apiKey === null) {
            $this->error('API key: not configured (set WEBSOCKET_API_KEY to the realtime node\'s LARAVEL_API_KEY)');

            return false;
        }

        $response = $client->get('/api/presence/online', ['limit' => 1]);
        if ($response->successful()) {
            $this->line('API key: accepted');

            return true;
        }
        if ($response->status === 401) {
            $this->error('API key: rejected (401 unauthorized): WEBSOCKET_API_KEY must match the node\'s LARAVEL_API_KEY or WEBSOCKET_API_KEY_HASH');

            return false;
        }
        $this->error('API key: could not be checked ('.($response->status !== null ? 'HTTP '.$response->status : $response->error).')');

        return false;
    }
}
