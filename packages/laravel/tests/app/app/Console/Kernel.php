<?php

namespace App\Console;

use Illuminate\Foundation\Console\Kernel as ConsoleKernel;

class Kernel extends ConsoleKernel
{
    /** Listed, not discovered: scanning app/Console/Commands needs Composer's class map. */
    protected $commands = [
        Commands\RealtimeCalls::class,
        Commands\RealtimeShip::class,
        Commands\RealtimeToken::class,
    ];
}
