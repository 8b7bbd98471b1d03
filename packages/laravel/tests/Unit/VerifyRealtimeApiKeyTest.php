<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Tests\Unit;

use Illuminate\Config\Repository;
use Illuminate\Http\Request;
use Illuminate\Http\Response;
use MechaMap\Realtime\Auth\ApiKeyHashes;
use MechaMap\Realtime\Http\Middleware\VerifyRealtimeApiKey;
use MechaMap\Realtime\Tests\Support\RecordingLogger;
use PHPUnit\Framework\TestCase;

final class VerifyRealtimeApiKeyTest extends TestCase
{
    private const KEY = 'node-callback-key-0123456789';

    private RecordingLogger $logger;
    private int $passed = 0;

    protected function setUp(): void
    {
        $this->logger = new RecordingLogger();
    }

    private function handle(array $websocketConfig, ?string $key): \Symfony\Component\HttpFoundation\Response
    {
        $middleware = new VerifyRealtimeApiKey(new Repository(['websocket' => $websocketConfig]), $this->logger);
        $request = Request::create('/api/realtime/presence', 'POST', [], [], [], $key === null ? [] : ['HTTP_X_WEBSOCKET_API_KEY' => $key]);

        return $middleware->handle($request, function () {
            $this->passed++;

            return new Response('passed', 204);
        });
    }

    public function test_a_key_whose_sha256_is_listed_passes(): void
    {
        $response = $this->handle(['api_key_hash' => hash('sha256', self::KEY)], self::KEY);

        $this->assertSame(204, $response->getStatusCode());
        $this->assertSame(1, $this->passed);
    }

    public function test_any_key_of_a_comma_separated_list_passes(): void
    {
        $list = hash('sha256', 'old-key').' , '.strtoupper(hash('sha256', self::KEY));

        $this->assertSame(204, $this->handle(['api_key_hash' => $list], self::KEY)->getStatusCode());
        $this->assertSame(204, $this->handle(['api_key_hash' => $list], 'old-key')->getStatusCode());
    }

    public function test_a_wrong_key_is_refused_with_401_json(): void
    {
        $response = $this->handle(['api_key_hash' => hash('sha256', self::KEY)], 'guessed-key-xyz');

        $this->assertSame(401, $response->getStatusCode());
        $this->assertSame(['success' => false, 'error' => 'unauthorized'], json_decode($response->getContent(), true));
        $this->assertSame(0, $this->passed);
        $this->assertStringNotContainsString('guessed-key-xyz', $this->logger->dump());
    }

    public function test_a_missing_header_is_refused(): void
    {
        $this->assertSame(401, $this->handle(['api_key_hash' => hash('sha256', self::KEY)], null)->getStatusCode());
        $this->assertSame(401, $this->handle(['api_key_hash' => hash('sha256', self::KEY)], '')->getStatusCode());
        $this->assertSame(0, $this->passed);
    }

    public function test_the_raw_key_itself_is_not_accepted_as_a_hash(): void
    {
        // Sending the configured digest instead of the key must not work.
        $hash = hash('sha256', self::KEY);

        $this->assertSame(401, $this->handle(['api_key_hash' => $hash], $hash)->getStatusCode());
    }

    public function test_without_a_hash_the_digest_of_websocket_api_key_is_used(): void
    {
        $this->assertSame(204, $this->handle(['api_key' => self::KEY], self::KEY)->getStatusCode());
        $this->assertSame(401, $this->handle(['api_key' => self::KEY], 'other')->getStatusCode());
    }

    public function test_with_nothing_configured_it_fails_closed_with_503(): void
    {
        $response = $this->handle([], self::KEY);

        $this->assertSame(503, $response->getStatusCode());
        $this->assertSame('not_configured', json_decode($response->getContent(), true)['error']);
        $this->assertSame(0, $this->passed);
        $this->assertStringContainsString('WEBSOCKET_API_KEY_HASH', $this->logger->at('error')[0]['message']);
    }

    public function test_malformed_hash_entries_are_ignored_and_reported(): void
    {
        $response = $this->handle(['api_key_hash' => 'not-a-digest,'.hash('sha256', self::KEY)], self::KEY);

        $this->assertSame(204, $response->getStatusCode());
        $this->assertCount(1, $this->logger->at('warning'));
    }

    public function test_only_malformed_hashes_do_not_fall_back_to_the_raw_key(): void
    {
        // A typo in WEBSOCKET_API_KEY_HASH must not silently widen what is accepted.
        $this->assertSame(503, $this->handle(['api_key_hash' => 'typo', 'api_key' => self::KEY], self::KEY)->getStatusCode());
    }

    public function test_hashes_are_normalised(): void
    {
        $hashes = ApiKeyHashes::fromConfig(' '.strtoupper(hash('sha256', 'a')).',,'.hash('sha256', 'a'), null);

        $this->assertSame([hash('sha256', 'a')], $hashes->hashes);
        $this->assertTrue($hashes->accepts('a'));
        $this->assertFalse($hashes->accepts('b'));
    }
}
