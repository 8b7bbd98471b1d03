<?php

namespace App\Models;

use Illuminate\Foundation\Auth\User as Authenticatable;

/** Never stored: built from request headers, or by hand in the tests' rules and commands. */
class User extends Authenticatable
{
    protected $guarded = [];

    public function getAvatarUrlAttribute(): string
    {
        return 'http://127.0.0.1/avatars/'.$this->getKey().'.png';
    }
}
