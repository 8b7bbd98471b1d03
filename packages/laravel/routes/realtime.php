<?php

use Illuminate\Support\Facades\Route;
use MechaMap\Realtime\Http\Controllers\ChannelAuthorizationController;
use MechaMap\Realtime\Http\Controllers\PresenceWebhookController;
use MechaMap\Realtime\Http\Middleware\VerifyRealtimeApiKey;

// Called by the realtime node at {LARAVEL_API_URL}/api/realtime/... with X-WebSocket-API-Key.
// Not in the "api" group on purpose: its throttle would drop presence webhooks of a busy forum.
Route::group([
    'prefix' => config('websocket.routes.prefix', 'api/realtime'),
    'middleware' => array_merge((array) config('websocket.routes.middleware', []), [VerifyRealtimeApiKey::class]),
], function (): void {
    Route::post('presence', PresenceWebhookController::class)->name('realtime.presence');
    Route::post('authorize', ChannelAuthorizationController::class)->name('realtime.authorize');
});
