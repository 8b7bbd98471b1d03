<?php

namespace App\Console\Commands;

use App\Events\OrderShipped;
use Illuminate\Console\Command;

/**
 * Fires the app's ShouldBroadcast OrderShipped from the console, as OrderController does over HTTP:
 * with --socket, `broadcast(...)->toOthers()` skips that socket (the X-Socket-ID header Echo would send).
 */
class RealtimeShip extends Command
{
    protected $signature = 'realtime:ship
        {order_id : the order}
        {marker : the payload\'s marker}
        {--channel=* : the channels (private-/presence- prefixes as Laravel names them); default news}
        {--socket= : the sender\'s socket id, skipped by toOthers()}';

    protected $description = 'Broadcast OrderShipped through the default broadcasting connection';

    public function handle(): int
    {
        $event = new OrderShipped((int) $this->argument('order_id'), (string) $this->argument('marker'), $this->option('channel') ?: ['news']);
        $socket = $this->option('socket');
        if ($socket === null) {
            broadcast($event);
        } else {
            // A console run has no browser request: give it the header toOthers() reads.
            request()->headers->set('X-Socket-ID', $socket);
            broadcast($event)->toOthers();
        }

        return self::SUCCESS;
    }
}
