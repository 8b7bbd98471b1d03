<?php

namespace App\Console\Commands;

use Illuminate\Console\Command;
use MechaMap\Realtime\RealtimeNotificationService;

/**
 * Calls the integration guide's four service methods through the container, as the app's own
 * code would, and prints one JSON line per call: {"call", "args", "result"}. Exit 0 when every
 * call succeeded (true, or status "success"), 1 otherwise.
 */
class RealtimeCalls extends Command
{
    public const CALLS = ['sendNotificationToUser', 'sendThreadUpdate', 'sendNewReply', 'testConnection'];

    protected $signature = 'realtime:calls
        {user_id=42 : the user of sendNotificationToUser}
        {thread_id=7 : the thread of sendThreadUpdate and sendNewReply}
        {--call=* : only these methods, in the order above}
        {--notification= : the notification, a JSON object}
        {--thread-data= : the thread update, a JSON object}
        {--reply= : the reply, a JSON object}';

    protected $description = 'Call sendNotificationToUser, sendThreadUpdate, sendNewReply and testConnection';

    public function handle(RealtimeNotificationService $service): int
    {
        $userId = (int) $this->argument('user_id');
        $threadId = (int) $this->argument('thread_id');
        $args = [
            'sendNotificationToUser' => [$userId, $this->json('notification') ?? ['id' => 'n-'.$userId, 'title' => 'New reply to your thread']],
            'sendThreadUpdate' => [$threadId, $this->json('thread-data') ?? ['thread_id' => $threadId, 'title' => 'Thread '.$threadId]],
            'sendNewReply' => [$threadId, $this->json('reply') ?? ['reply_id' => 1, 'thread_id' => $threadId, 'content' => 'A reply']],
            'testConnection' => [],
        ];
        $only = $this->option('call') ?: self::CALLS;

        $allOk = true;
        foreach (array_intersect(self::CALLS, $only) as $method) {
            $result = $service->{$method}(...$args[$method]);
            $allOk = $allOk && ($method === 'testConnection' ? $result['status'] === 'success' : $result === true);
            $this->line(json_encode(['call' => $method, 'args' => $args[$method], 'result' => $result], JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE));
        }

        return $allOk ? self::SUCCESS : self::FAILURE;
    }

    private function json(string $option): ?array
    {
        $raw = $this->option($option);

        return $raw === null ? null : json_decode($raw, true, 512, JSON_THROW_ON_ERROR);
    }
}
