<?php

namespace App\Http\Controllers;

use App\Events\OrderShipped;
use Illuminate\Http\Request;
use Illuminate\Http\Response;
use Illuminate\Routing\Controller;

/**
 * What a Laravel app's own code does with broadcasting: an action that fires a ShouldBroadcast
 * event for everyone but the caller's socket (Echo's X-Socket-ID header), through whichever
 * driver BROADCAST_DRIVER names (the package's `realtime`, or Laravel's `redis`).
 */
class OrderController extends Controller
{
    public function ship(Request $request, string $orderId): Response
    {
        broadcast(new OrderShipped((int) $orderId, (string) $request->input('marker'), (array) $request->input('channels')))->toOthers();

        return response()->noContent();
    }
}
