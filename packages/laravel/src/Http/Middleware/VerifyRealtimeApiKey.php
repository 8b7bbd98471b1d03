<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Http\Middleware;

use Closure;
use Illuminate\Contracts\Config\Repository as Config;
use Illuminate\Http\JsonResponse;
use Illuminate\Http\Request;
use MechaMap\Realtime\Auth\ApiKeyHashes;
use MechaMap\Realtime\Client\RealtimeClient;
use Psr\Log\LoggerInterface;

/**
 * Admits a request only when its X-WebSocket-API-Key hashes (sha256) to one of
 * WEBSOCKET_API_KEY_HASH's digests. Registered as the `realtime.key` middleware alias.
 */
final class VerifyRealtimeApiKey
{
    public function __construct(private readonly Config $config, private readonly LoggerInterface $logger)
    {
    }

    public function handle(Request $request, Closure $next): mixed
    {
        $hashes = ApiKeyHashes::fromConfig(
            $this->config->get('websocket.api_key_hash'),
            $this->config->get('websocket.api_key'),
        );
        if ($hashes->invalid !== []) {
            $this->logger->warning('WEBSOCKET_API_KEY_HASH has entries that are not sha256 hex digests; they are ignored', [
                'invalid_entries' => count($hashes->invalid),
            ]);
        }

        if ($hashes->isEmpty()) {
            // Fail closed, with a status the node treats as "try again later", not "denied".
            $this->logger->error('Realtime callback refused: set WEBSOCKET_API_KEY_HASH (or WEBSOCKET_API_KEY) to verify the realtime server', [
                'path' => $request->path(),
            ]);

            return new JsonResponse(['success' => false, 'error' => 'not_configured'], 503);
        }

        $key = $request->headers->get(RealtimeClient::API_KEY_HEADER);
        if (! is_string($key) || $key === '' || ! $hashes->accepts($key)) {
            $this->logger->warning('Realtime callback refused: missing or wrong X-WebSocket-API-Key', [
                'path' => $request->path(),
                'ip' => $request->ip(),
            ]);

            return new JsonResponse(['success' => false, 'error' => 'unauthorized'], 401);
        }

        return $next($request);
    }
}
