<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Channels;

use Closure;
use Illuminate\Auth\Access\Response as GateResponse;
use Illuminate\Auth\GenericUser;
use Illuminate\Contracts\Auth\Access\Gate;
use Illuminate\Contracts\Auth\Authenticatable;
use Illuminate\Contracts\Container\Container;

/**
 * Answers the node's `POST /api/realtime/authorize {user_id, channel}` (CHANNEL_AUTH=laravel).
 *
 * Rules are registered like Laravel's Broadcast::channel(), with `{param}` placeholders:
 *
 *     RealtimeChannels::channel('forum.{forumId}', fn (?User $user, string $forumId) => ...);
 *     RealtimeChannels::channel('thread.{threadId}', 'view-thread');   // a Gate ability
 *
 * The first matching rule decides. No matching rule denies (fail closed).
 */
final class ChannelAuthorizer
{
    /** @var list<array{pattern: string, regex: string, rule: callable|string}> */
    private array $rules = [];

    /** @var (Closure(string): ?Authenticatable)|null */
    private ?Closure $userResolver = null;

    public function __construct(private readonly Container $container)
    {
    }

    /**
     * @param string $pattern channel name with `{param}` segments, e.g. `forum.{forumId}`
     * @param callable|string $rule callback `($user, ...$params): bool`, or a Gate ability
     *                              checked as `Gate::forUser($user)->allows($ability, $params)`
     */
    public function channel(string $pattern, callable|string $rule): self
    {
        $this->rules[] = ['pattern' => $pattern, 'regex' => self::regex($pattern), 'rule' => $rule];

        return $this;
    }

    /**
     * How a user id from the node becomes a user. Default: the user provider of
     * `websocket.authorization.guard` (or the default guard), else a GenericUser with that id.
     *
     * @param callable(string): ?Authenticatable $resolver
     */
    public function resolveUsersUsing(callable $resolver): self
    {
        $this->userResolver = Closure::fromCallable($resolver);

        return $this;
    }

    /**
     * Whether the user (null for a guest) may join the channel. Exceptions from rules and
     * resolvers propagate: the controller turns them into a 503, which the node treats as
     * "auth_unavailable" and does not cache.
     */
    public function authorize(?string $userId, string $channel): bool
    {
        foreach ($this->rules as $rule) {
            if (! preg_match($rule['regex'], $channel, $matches)) {
                continue;
            }
            $params = array_values(array_filter($matches, 'is_string', ARRAY_FILTER_USE_KEY));
            $user = $userId === null ? null : $this->resolveUser($userId);

            return self::allowed(is_string($rule['rule'])
                ? $this->container->make(Gate::class)->forUser($user)->inspect($rule['rule'], $params)
                : ($rule['rule'])($user, ...$params));
        }

        return false;
    }

    private function resolveUser(string $userId): ?Authenticatable
    {
        if ($this->userResolver !== null) {
            return ($this->userResolver)($userId);
        }

        $config = $this->container->make('config');
        $guard = $config->get('websocket.authorization.guard') ?? $config->get('auth.defaults.guard');
        $providerName = $config->get("auth.guards.$guard.provider");
        $provider = $providerName === null ? null : $this->container->make('auth')->createUserProvider($providerName);

        return $provider === null ? new GenericUser(['id' => $userId]) : $provider->retrieveById($userId);
    }

    /** `true`, an allowing Gate response, or a non-empty array (Laravel presence channels) admit. */
    private static function allowed(mixed $result): bool
    {
        if ($result instanceof GateResponse) {
            return $result->allowed();
        }

        return $result === true || (is_array($result) && $result !== []);
    }

    private static function regex(string $pattern): string
    {
        $parts = preg_split('/(\{[A-Za-z_][A-Za-z0-9_]*\})/', $pattern, -1, PREG_SPLIT_DELIM_CAPTURE);
        $regex = '';
        foreach ($parts as $part) {
            $regex .= preg_match('/^\{([A-Za-z_][A-Za-z0-9_]*)\}$/', $part, $m)
                ? '(?<'.$m[1].'>[^.]+)'
                : preg_quote($part, '/');
        }

        return '/^'.$regex.'$/D';
    }
}
