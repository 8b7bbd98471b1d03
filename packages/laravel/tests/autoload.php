<?php

/*
| Stand-in for Composer's autoloader when there is no Composer (Debian's php-* packages):
| the PSR-4 mappings of composer.json. Used by tests/bootstrap.php.
*/

spl_autoload_register(static function (string $class): void {
    static $map = [
        'MechaMap\\Realtime\\Tests\\' => __DIR__.'/',
        'MechaMap\\Realtime\\' => __DIR__.'/../src/',
    ];
    foreach ($map as $prefix => $dir) {
        if (strncmp($class, $prefix, strlen($prefix)) === 0) {
            $file = $dir.str_replace('\\', '/', substr($class, strlen($prefix))).'.php';
            if (is_file($file)) {
                require_once $file;
            }

            return;
        }
    }
});
