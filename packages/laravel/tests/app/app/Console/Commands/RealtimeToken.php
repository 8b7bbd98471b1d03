<?php

namespace App\Console\Commands;

use App\Models\User;
use Illuminate\Console\Command;
use MechaMap\Realtime\Auth\RealtimeTokenIssuer;

/** Prints the frontend token the package issues for a user, as a controller hands it to the browser. */
class RealtimeToken extends Command
{
    protected $signature = 'realtime:token {user_id : the user} {--ttl= : seconds (default: websocket.jwt.ttl)}';

    protected $description = 'Print a frontend JWT for a user';

    public function handle(RealtimeTokenIssuer $issuer): int
    {
        $ttl = $this->option('ttl');
        $this->line($issuer->issue(new User(['id' => (int) $this->argument('user_id')]), $ttl === null ? null : (int) $ttl));

        return self::SUCCESS;
    }
}
