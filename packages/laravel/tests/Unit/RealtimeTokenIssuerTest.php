<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Tests\Unit;

use Illuminate\Auth\GenericUser;
use MechaMap\Realtime\Auth\RealtimeTokenIssuer;
use MechaMap\Realtime\Exceptions\RealtimeConfigurationException;
use MechaMap\Realtime\Tests\Support\Paths;
use MechaMap\Realtime\Tests\Support\TymonToken;
use PHPUnit\Framework\TestCase;

final class RealtimeTokenIssuerTest extends TestCase
{
    private const SECRET = 'unit-test-jwt-secret-0123456789abcdef';
    private const NOW = 1_800_000_000;

    private static function decode(string $token): array
    {
        [$header, $payload, $signature] = explode('.', $token);
        $json = static fn (string $part): array => json_decode(base64_decode(strtr($part, '-_', '+/')), true);

        return [$json($header), $json($payload), $signature, "$header.$payload"];
    }

    private function issuer(?string $secret = self::SECRET, ?string $audience = null): RealtimeTokenIssuer
    {
        return new RealtimeTokenIssuer($secret, 60, 'http://forum.test', $audience, static fn (): int => self::NOW);
    }

    public function test_tokens_are_hs256_signed_with_the_raw_secret(): void
    {
        [$header, , $signature, $input] = self::decode($this->issuer()->issue(42));

        $this->assertSame(['typ' => 'JWT', 'alg' => 'HS256'], $header);
        $expected = rtrim(strtr(base64_encode(hash_hmac('sha256', $input, self::SECRET, true)), '+/', '-_'), '=');
        $this->assertSame($expected, $signature);
    }

    public function test_claims_follow_tymon_jwt_auth_in_order_with_a_string_sub(): void
    {
        [, $claims] = self::decode($this->issuer()->issue(new GenericUser(['id' => 42])));

        $this->assertSame(['iss', 'iat', 'exp', 'nbf', 'jti', 'sub', 'prv'], array_keys($claims));
        $this->assertSame('42', $claims['sub']);
        $this->assertSame('http://forum.test', $claims['iss']);
        $this->assertSame(self::NOW, $claims['iat']);
        $this->assertSame(self::NOW, $claims['nbf']);
        $this->assertSame(self::NOW + 3600, $claims['exp']);
        $this->assertMatchesRegularExpression('/^[A-Za-z0-9]{16}$/', $claims['jti']);
        $this->assertSame(sha1(GenericUser::class), $claims['prv']);
    }

    public function test_the_shape_matches_a_tymon_jwt_auth_token(): void
    {
        $tymon = TymonToken::shape();
        require_once Paths::testApp('app/Models/User.php'); // the user model of an app, named like tymon's default
        [$header, $claims] = self::decode($this->issuer()->issue(new \App\Models\User(['id' => 42]), 120));

        $this->assertSame($tymon['header'], $header);
        $this->assertSame($tymon['claims'], array_keys($claims));
        $this->assertSame($tymon['sub'], $claims['sub']);
        $this->assertMatchesRegularExpression('/'.$tymon['jti_pattern'].'/', $claims['jti']);
        $this->assertSame($tymon['prv_model'], \App\Models\User::class);
        $this->assertSame($tymon['prv'], $claims['prv']);
        $this->assertSame(120, $claims['exp'] - $claims['iat']);
    }

    public function test_an_id_gives_a_token_without_prv(): void
    {
        [, $claims] = self::decode($this->issuer()->issue('u-7', 60));

        $this->assertSame('u-7', $claims['sub']);
        $this->assertArrayNotHasKey('prv', $claims);
        $this->assertSame(self::NOW + 60, $claims['exp']);
    }

    public function test_extra_claims_are_added_but_cannot_replace_registered_ones(): void
    {
        [, $claims] = self::decode($this->issuer()->issue(42, null, ['sub' => '1', 'exp' => 1, 'role' => 'moderator']));

        $this->assertSame('42', $claims['sub']);
        $this->assertSame(self::NOW + 3600, $claims['exp']);
        $this->assertSame('moderator', $claims['role']);
    }

    public function test_the_audience_is_added_when_configured(): void
    {
        [, $claims] = self::decode($this->issuer(self::SECRET, 'mechamap-realtime')->issue(42));

        $this->assertSame('mechamap-realtime', $claims['aud']);
    }

    public function test_without_a_secret_it_says_what_to_set(): void
    {
        $this->expectException(RealtimeConfigurationException::class);
        $this->expectExceptionMessage('JWT_SECRET');

        $this->issuer(null)->issue(42);
    }

    public function test_from_config_uses_minutes_and_falls_back_to_the_app_url(): void
    {
        $issuer = RealtimeTokenIssuer::fromConfig(['secret' => self::SECRET, 'ttl' => '5'], 'https://forum.example');
        [, $claims] = self::decode($issuer->issue(1));

        $this->assertSame(300, $claims['exp'] - $claims['iat']);
        $this->assertSame('https://forum.example', $claims['iss']);
    }
}
