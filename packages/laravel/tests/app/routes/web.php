<?php

use App\Http\Controllers\OrderController;
use Illuminate\Support\Facades\Route;

Route::get('/', static fn () => response()->json(['app' => config('app.name')]));
Route::post('/orders/{orderId}/ship', [OrderController::class, 'ship'])->middleware('auth');
