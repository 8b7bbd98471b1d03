<?php

/*
| php install.php DEST
|
| Copies this app to DEST (an empty or missing folder) and installs the package into the copy the
| way `composer require` from a path repository would: vendor/composer/installed.json lists the
| package (Laravel's package discovery reads it) and vendor/autoload.php loads it by PSR-4 from
| this checkout. The app is never run in place: Laravel writes its caches and logs, so each test
| that runs it gets its own copy.
*/

declare(strict_types=1);

if ($argc !== 2) {
    fwrite(STDERR, "usage: php install.php DEST\n");
    exit(2);
}
$source = __DIR__;
$dest = rtrim($argv[1], '/');
$package = dirname(__DIR__, 2);

$files = new RecursiveIteratorIterator(new RecursiveDirectoryIterator($source, FilesystemIterator::SKIP_DOTS), RecursiveIteratorIterator::SELF_FIRST);
@mkdir($dest, 0700, true);
foreach ($files as $entry) {
    $target = $dest.'/'.substr($entry->getPathname(), strlen($source) + 1);
    if ($entry->isDir()) {
        @mkdir($target, 0700, true);
    } elseif ($entry->getFilename() !== 'install.php') {
        copy($entry->getPathname(), $target) || exit(1);
    }
}
chmod("$dest/artisan", 0755);
foreach (['storage/logs', 'storage/framework/cache', 'storage/framework/views', 'bootstrap/cache', 'resources/views', 'vendor/composer'] as $dir) {
    @mkdir("$dest/$dir", 0700, true);
}

$composer = json_decode((string) file_get_contents("$package/composer.json"), true, 512, JSON_THROW_ON_ERROR);
file_put_contents("$dest/vendor/composer/installed.json", json_encode(
    ['packages' => [$composer + ['version' => 'dev-main', 'install-path' => $package]]],
    JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES,
));

$psr4 = [];
foreach ($composer['autoload']['psr-4'] as $prefix => $dir) {
    $psr4[$prefix] = $package.'/'.$dir;
}
file_put_contents("$dest/vendor/autoload.php", '<?php

// Written by install.php: the package\'s PSR-4 autoload, as Composer would generate it.
spl_autoload_register(static function (string $class): void {
    foreach ('.var_export($psr4, true).' as $prefix => $dir) {
        if (strncmp($class, $prefix, strlen($prefix)) === 0) {
            $file = $dir.str_replace(\'\\\\\', \'/\', substr($class, strlen($prefix))).\'.php\';
            if (is_file($file)) {
                require_once $file;
            }

            return;
        }
    }
});
');
echo $dest, "\n";
