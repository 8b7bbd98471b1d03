<?php

// Debian's php-laravel-framework and php-guzzlehttp-guzzle live on PHP's include path.
foreach (['Illuminate/autoload.php', 'GuzzleHttp/autoload.php'] as $autoload) {
    if (! stream_resolve_include_path($autoload)) {
        fwrite(STDERR, "tests/bootstrap.php: $autoload is not on PHP's include path (apt-get install php-laravel-framework php-guzzlehttp-guzzle)\n");
        exit(1);
    }
    require_once $autoload;
}

require_once __DIR__.'/autoload.php';
