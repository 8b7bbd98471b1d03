<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Tests\Unit;

use Illuminate\Auth\Access\Gate;
use Illuminate\Auth\Access\Response;
use Illuminate\Auth\GenericUser;
use Illuminate\Config\Repository;
use Illuminate\Container\Container;
use Illuminate\Contracts\Auth\Access\Gate as GateContract;
use MechaMap\Realtime\Channels\ChannelAuthorizer;
use PHPUnit\Framework\TestCase;

final class ChannelAuthorizerTest extends TestCase
{
    private Container $container;
    private Gate $gate;
    private ChannelAuthorizer $channels;

    protected function setUp(): void
    {
        $this->container = new Container();
        $this->gate = new Gate($this->container, static fn () => null);
        $this->container->instance(GateContract::class, $this->gate);
        $this->container->instance('config', new Repository(['auth' => ['defaults' => ['guard' => 'web'], 'guards' => ['web' => []]]]));
        $this->channels = new ChannelAuthorizer($this->container);
    }

    public function test_a_callback_gets_the_user_and_the_channel_parameters(): void
    {
        $seen = null;
        $this->channels->channel('forum.{forumId}.topic.{topicId}', function ($user, $forumId, $topicId) use (&$seen) {
            $seen = [$user->getAuthIdentifier(), $forumId, $topicId];

            return true;
        });

        $this->assertTrue($this->channels->authorize('42', 'forum.3.topic.9'));
        $this->assertSame(['42', '3', '9'], $seen);
    }

    public function test_a_channel_no_rule_matches_is_denied(): void
    {
        $this->channels->channel('forum.{id}', static fn () => true);

        $this->assertFalse($this->channels->authorize('42', 'admin.1'));
        $this->assertFalse($this->channels->authorize('42', 'forum.3.extra'));
        $this->assertFalse($this->channels->authorize('42', 'xforum.3'));
    }

    public function test_the_first_matching_rule_decides(): void
    {
        $this->channels->channel('forum.private', static fn () => false)->channel('forum.{id}', static fn () => true);

        $this->assertFalse($this->channels->authorize('1', 'forum.private'));
        $this->assertTrue($this->channels->authorize('1', 'forum.public'));
    }

    public function test_only_true_or_a_non_empty_array_admits(): void
    {
        $this->channels
            ->channel('a.{x}', static fn () => 1)
            ->channel('b.{x}', static fn () => 'yes')
            ->channel('c.{x}', static fn () => ['id' => 1])
            ->channel('d.{x}', static fn () => []);

        $this->assertFalse($this->channels->authorize('1', 'a.1'));
        $this->assertFalse($this->channels->authorize('1', 'b.1'));
        $this->assertTrue($this->channels->authorize('1', 'c.1'));
        $this->assertFalse($this->channels->authorize('1', 'd.1'));
    }

    public function test_a_string_rule_is_a_gate_ability_checked_for_that_user(): void
    {
        $this->gate->define('view-thread', static fn ($user, string $threadId) => $user->getAuthIdentifier() === '42' && $threadId === '7');
        $this->channels->channel('thread.{threadId}', 'view-thread');

        $this->assertTrue($this->channels->authorize('42', 'thread.7'));
        $this->assertFalse($this->channels->authorize('43', 'thread.7'));
        $this->assertFalse($this->channels->authorize('42', 'thread.8'));
    }

    public function test_gate_responses_are_understood(): void
    {
        $this->gate->define('allow', static fn ($user) => Response::allow());
        $this->gate->define('deny', static fn ($user) => Response::deny('no'));
        $this->channels->channel('yes.{x}', 'allow')->channel('no.{x}', 'deny');

        $this->assertTrue($this->channels->authorize('1', 'yes.1'));
        $this->assertFalse($this->channels->authorize('1', 'no.1'));
    }

    public function test_guests_reach_rules_as_null_and_gates_deny_them_unless_they_accept_null(): void
    {
        $this->gate->define('members-only', static fn (GenericUser $user) => true);
        $this->gate->define('anyone', static fn (?GenericUser $user) => true);
        $this->channels->channel('lobby.{x}', static fn ($user) => $user === null)
            ->channel('members.{x}', 'members-only')
            ->channel('public.{x}', 'anyone');

        $this->assertTrue($this->channels->authorize(null, 'lobby.1'));
        $this->assertFalse($this->channels->authorize(null, 'members.1'));
        $this->assertTrue($this->channels->authorize(null, 'public.1'));
    }

    public function test_a_custom_resolver_turns_ids_into_users(): void
    {
        $this->channels->resolveUsersUsing(static fn (string $id) => $id === '1' ? new GenericUser(['id' => 1, 'role' => 'moderator']) : null);
        $this->channels->channel('mod.{x}', static fn ($user) => $user?->role === 'moderator');

        $this->assertTrue($this->channels->authorize('1', 'mod.queue'));
        $this->assertFalse($this->channels->authorize('2', 'mod.queue'));
    }

    public function test_parameters_do_not_match_across_dots_and_special_characters_are_literal(): void
    {
        $this->channels->channel('a+b.{x}', static fn () => true);

        $this->assertTrue($this->channels->authorize('1', 'a+b.1'));
        $this->assertFalse($this->channels->authorize('1', 'aab.1'));
    }
}
