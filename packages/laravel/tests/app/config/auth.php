<?php

// No users table: the user comes from request headers (App\Providers\AppServiceProvider).
return [
    'defaults' => ['guard' => 'header'],
    'guards' => ['header' => ['driver' => 'test-header']],
    'providers' => [],
];
