<?php

use App\Http\Controllers\RealtimeController;
use Illuminate\Support\Facades\Route;

// The package adds its own inbound routes under api/realtime (presence, authorize).
Route::get('/realtime/test', [RealtimeController::class, 'health']);
Route::post('/notifications/send', [RealtimeController::class, 'notifyReply'])->middleware('auth');
