<?php

namespace App\Http\Controllers;

use Illuminate\Http\JsonResponse;
use Illuminate\Http\Request;
use Illuminate\Routing\Controller;
use MechaMap\Realtime\RealtimeNotificationService;

/**
 * What the integration guide's controllers do with the service: a health page, and a reply
 * notification sent on behalf of the signed-in user.
 */
class RealtimeController extends Controller
{
    public function __construct(private RealtimeNotificationService $realtime)
    {
    }

    public function health(): JsonResponse
    {
        return response()->json($this->realtime->testConnection());
    }

    public function notifyReply(Request $request): JsonResponse
    {
        $user = $request->user();
        $sent = $this->realtime->sendNotificationToUser((int) $request->input('user_id'), [
            'id' => 'notif_'.$request->input('reply_id'),
            'type' => 'thread_reply',
            'title' => 'New reply to your thread',
            'data' => [
                'thread_id' => (int) $request->input('thread_id'),
                'reply_id' => (int) $request->input('reply_id'),
                'user' => ['id' => $user->id, 'name' => $user->name, 'avatar' => $user->avatar_url],
            ],
            'read' => false,
        ]);

        return response()->json(['success' => $sent, 'message' => $sent ? 'Notification sent' : 'Notification failed'], $sent ? 200 : 502);
    }
}
