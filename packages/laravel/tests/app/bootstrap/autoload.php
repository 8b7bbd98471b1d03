<?php

/*
| What vendor/autoload.php is in a Composer install. There is no Composer here: the framework,
| Guzzle and Predis come from Debian's php-* packages on PHP's include path, App\ is loaded by
| PSR-4 from app/, and the package is loaded by vendor/autoload.php, which install.php writes
| when it installs the package into a copy of this app.
*/

foreach (['Illuminate/autoload.php', 'GuzzleHttp/autoload.php'] as $autoload) {
    if (! stream_resolve_include_path($autoload)) {
        fwrite(STDERR, "$autoload is not on PHP's include path: apt-get install php-laravel-framework php-guzzlehttp-guzzle\n");
        exit(1);
    }
    require_once $autoload;
}
if (stream_resolve_include_path('Predis/autoload.php')) {
    require_once 'Predis/autoload.php';
}

spl_autoload_register(static function (string $class): void {
    if (strncmp($class, 'App\\', 4) === 0) {
        $file = dirname(__DIR__).'/app/'.str_replace('\\', '/', substr($class, 4)).'.php';
        if (is_file($file)) {
            require_once $file;
        }
    }
});

if (! is_file(dirname(__DIR__).'/vendor/autoload.php')) {
    fwrite(STDERR, "vendor/autoload.php missing: run this app from a copy made by `php install.php DEST`\n");
    exit(1);
}
require_once dirname(__DIR__).'/vendor/autoload.php';
