<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Tests\Support;

/**
 * A token shaped like tymon/jwt-auth's (tests/fixtures/tymon-token.json), minted without the
 * package: what an app that followed the guide hands its frontend today. The node must accept it.
 */
final class TymonToken
{
    public static function shape(): array
    {
        return json_decode((string) file_get_contents(Paths::fixture('tymon-token.json')), true, 512, JSON_THROW_ON_ERROR);
    }

    public static function mint(string $secret, int $userId, int $ttl, int $now): string
    {
        $shape = self::shape();
        $values = [
            'iss' => 'http://127.0.0.1/api/auth/login',
            'iat' => $now,
            'exp' => $now + $ttl,
            'nbf' => $now,
            'jti' => substr(str_replace(['+', '/', '='], '', base64_encode(random_bytes(24))), 0, 16),
            'sub' => (string) $userId,
            'prv' => $shape['prv'],
        ];
        $claims = [];
        foreach ($shape['claims'] as $name) {
            $claims[$name] = $values[$name];
        }
        $encode = static fn (string $bytes): string => rtrim(strtr(base64_encode($bytes), '+/', '-_'), '=');
        $signing = $encode(json_encode($shape['header'])).'.'.$encode(json_encode($claims, JSON_UNESCAPED_SLASHES));

        return $signing.'.'.$encode(hash_hmac('sha256', $signing, $secret, true));
    }
}
