<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Auth;

use Closure;
use Illuminate\Contracts\Auth\Authenticatable;
use MechaMap\Realtime\Exceptions\RealtimeConfigurationException;

/**
 * Issues the token a browser passes to the realtime node: `io(url, {auth: {token}})`.
 *
 * HS256 with JWT_SECRET as raw key bytes, shaped like a tymon/jwt-auth token (header
 * `{"typ":"JWT","alg":"HS256"}`, claims `iss, iat, exp, nbf, jti, sub` and `prv` for a
 * model), so the node accepts these and tymon's tokens alike, and tymon accepts these.
 *
 * Rotating JWT_SECRET without logging anyone out (the node verifies with JWT_SECRET and, when
 * set, JWT_SECRET_PREVIOUS; it never signs with the previous one):
 *  1. nodes: JWT_SECRET=<new>, JWT_SECRET_PREVIOUS=<old>; restart them one at a time (a rolling
 *     restart drains each node, its sockets reconnect elsewhere with the tokens they have);
 *  2. Laravel: JWT_SECRET=<new> (this class signs with it from the next request on);
 *  3. wait until every token signed with <old> has expired: JWT_TTL, plus the node's 30 s of
 *     clock tolerance (sockets already connected are not asked again);
 *  4. nodes: remove JWT_SECRET_PREVIOUS, rolling restart again.
 * Signing with the new secret before step 1 is done everywhere would refuse tokens on the nodes
 * not yet restarted. The API key's rotation needs no restart (docs/LARAVEL.md, docs/SECURITY.md).
 */
final class RealtimeTokenIssuer
{
    /** @var Closure(): int */
    private Closure $clock;

    /**
     * @param int $ttlMinutes default lifetime (JWT_TTL, minutes, as tymon/jwt-auth)
     * @param Closure(): int|null $clock unix time (default time())
     */
    public function __construct(
        private readonly ?string $secret,
        private readonly int $ttlMinutes = 60,
        private readonly ?string $issuer = null,
        private readonly ?string $audience = null,
        ?Closure $clock = null,
    ) {
        $this->clock = $clock ?? static fn (): int => time();
    }

    /** From config('websocket.jwt'); `iss` falls back to the app URL, as tymon's does. */
    public static function fromConfig(array $jwt, ?string $appUrl = null): self
    {
        $string = static fn (mixed $v): ?string => is_string($v) && trim($v) !== '' ? $v : null;

        return new self(
            $string($jwt['secret'] ?? null),
            is_numeric($jwt['ttl'] ?? null) ? max(1, (int) $jwt['ttl']) : 60,
            $string($jwt['issuer'] ?? null) ?? $string($appUrl),
            $string($jwt['audience'] ?? null),
        );
    }

    /**
     * @param Authenticatable|int|string $user the user, or their id (then no `prv` claim)
     * @param int|null $ttlSeconds lifetime; default JWT_TTL minutes
     * @param array<string, mixed> $claims extra claims; the registered ones above cannot be overridden
     *
     * @throws RealtimeConfigurationException when JWT_SECRET is not set
     */
    public function issue(Authenticatable|int|string $user, ?int $ttlSeconds = null, array $claims = []): string
    {
        if ($this->secret === null) {
            throw new RealtimeConfigurationException('Cannot issue a realtime token: JWT_SECRET is not set (use the same value as the realtime node).');
        }

        $subject = $user instanceof Authenticatable ? $user->getAuthIdentifier() : $user;
        if ($subject === null || $subject === '') {
            throw new RealtimeConfigurationException('Cannot issue a realtime token for a user without an id.');
        }

        $now = ($this->clock)();
        $payload = array_filter([
            'iss' => $this->issuer,
            'iat' => $now,
            'exp' => $now + ($ttlSeconds ?? $this->ttlMinutes * 60),
            'nbf' => $now,
            'jti' => self::jti(),
            'sub' => (string) $subject,
            // tymon/jwt-auth's "prv": the sha1 of the subject's model class.
            'prv' => is_object($user) ? sha1(get_class($user)) : null,
            'aud' => $this->audience,
        ], static fn (mixed $v): bool => $v !== null);
        $payload += array_diff_key($claims, array_flip(['iss', 'iat', 'exp', 'nbf', 'jti', 'sub', 'prv', 'aud']));

        $flags = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR;
        $input = self::base64url(json_encode(['typ' => 'JWT', 'alg' => 'HS256'], $flags))
            .'.'.self::base64url(json_encode($payload, $flags));

        return $input.'.'.self::base64url(hash_hmac('sha256', $input, $this->secret, true));
    }

    private static function jti(): string
    {
        $alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
        $jti = '';
        for ($i = 0; $i < 16; $i++) {
            $jti .= $alphabet[random_int(0, 61)];
        }

        return $jti;
    }

    private static function base64url(string $bytes): string
    {
        return rtrim(strtr(base64_encode($bytes), '+/', '-_'), '=');
    }
}
