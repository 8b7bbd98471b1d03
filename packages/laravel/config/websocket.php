<?php

/*
| MechaMap Realtime (mechamap/realtime-laravel).
|
| The keys and env names of the integration guide's config/websocket.php, plus
| the package's own (jwt, routes, webhooks, authorization). Publish with:
|   php artisan vendor:publish --tag=realtime-config
| See docs/LARAVEL.md for every key.
*/

return [

    'server' => [
        // Base URL of the realtime cluster (nginx in front of the nodes), no
        // trailing path: the package calls {url}/api/... and {url}/health.
        'url' => env('WEBSOCKET_SERVER_URL', 'http://127.0.0.1:3000'),
        'host' => env('WEBSOCKET_SERVER_HOST', '127.0.0.1'),
        'port' => env('WEBSOCKET_SERVER_PORT', 3000),
        'secure' => env('WEBSOCKET_SERVER_SECURE', false),
    ],

    // Raw key sent as X-WebSocket-API-Key (the node's LARAVEL_API_KEY).
    'api_key' => env('WEBSOCKET_API_KEY'),

    // sha256 hex digest(s) of the key(s) the node sends on its callbacks,
    // comma-separated for rotation. Unset: sha256(WEBSOCKET_API_KEY) is used.
    'api_key_hash' => env('WEBSOCKET_API_KEY_HASH'),

    'broadcasting' => [
        // Server-to-server URL for API calls. When set it wins over
        // WEBSOCKET_SERVER_URL (e.g. an internal address that skips the public
        // load balancer). Unset (the default here): WEBSOCKET_SERVER_URL.
        'url' => env('NODEJS_BROADCAST_URL'),

        // Seconds one call may take in total, retries and back-off included.
        'timeout' => env('WEBSOCKET_TIMEOUT', 10),

        // Retries after the first attempt, on connection errors and 5xx. They go
        // at once (the next may reach another node): nothing sleeps inside a
        // request. Back-off is the queue's (see 'queue').
        'retry_attempts' => env('WEBSOCKET_RETRY_ATTEMPTS', 3),
    ],

    // The `realtime` broadcasting driver (BROADCAST_DRIVER / BROADCAST_CONNECTION
    // = realtime) hands a broadcast the cluster could not take (no answer, 429,
    // 5xx) to this queue, with the same idempotency key on every attempt. No
    // queue (the `sync` or `null` driver): the broadcast throws a
    // BroadcastException instead, as Laravel's other drivers do.
    'queue' => [
        'enabled' => env('REALTIME_QUEUE_ENABLED', true),
        // null: the app's default connection (QUEUE_CONNECTION).
        'connection' => env('REALTIME_QUEUE_CONNECTION'),
        'queue' => env('REALTIME_QUEUE'),
        'tries' => 10,
        // Seconds before each retry (the last one repeats); a 429's Retry-After wins.
        'backoff' => [1, 5, 10, 30, 60],
    ],

    'events' => [
        'notification' => 'notification',
        'thread_updated' => 'thread_updated',
        'new_reply' => 'new_reply',
        'user_online' => 'user_online',
        'user_offline' => 'user_offline',
    ],

    // Frontend token (RealtimeTokenIssuer): HS256, same JWT_SECRET as the node.
    'jwt' => [
        'secret' => env('JWT_SECRET'),
        // Minutes, like tymon/jwt-auth's JWT_TTL.
        'ttl' => env('JWT_TTL', 60),
        // "iss" claim; the node checks it only when its JWT_ISSUER is set.
        // Unset: config('app.url').
        'issuer' => env('JWT_ISSUER'),
        'audience' => env('JWT_AUDIENCE'),
    ],

    // Inbound routes called by the node: POST {prefix}/presence and
    // POST {prefix}/authorize. The API-key middleware is always added.
    'routes' => [
        'enabled' => env('REALTIME_ROUTES_ENABLED', true),
        'prefix' => 'api/realtime',
        'middleware' => [],
    ],

    'webhooks' => [
        // How long a presence webhook id is remembered to drop repeats.
        'dedupe_ttl' => 600,
        // Cache store for those ids (null: the default store). Use one with an
        // atomic add() (redis, database, memcached) when several PHP workers run.
        'cache_store' => env('REALTIME_WEBHOOK_CACHE_STORE'),
    ],

    'authorization' => [
        // Guard whose user provider turns the node's user_id into a user
        // (null: the default guard). See RealtimeChannels::resolveUsersUsing().
        'guard' => null,
    ],

    // Let the guide's code keep saying App\Services\RealtimeNotificationService
    // once its own file is deleted (class alias to the package's service).
    'legacy_alias' => true,

];
