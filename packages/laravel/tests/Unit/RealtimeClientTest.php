<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Tests\Unit;

use MechaMap\Realtime\Client\ApiResponse;
use MechaMap\Realtime\Client\RealtimeClient;
use MechaMap\Realtime\Tests\Support\FakeRealtimeApi;
use PHPUnit\Framework\TestCase;

final class RealtimeClientTest extends TestCase
{
    private FakeRealtimeApi $api;

    protected function setUp(): void
    {
        $this->api = new FakeRealtimeApi();
    }

    public function test_a_503_is_retried_until_the_server_accepts(): void
    {
        $this->api->answer([503, ['success' => false, 'error' => 'unavailable']], [503, ['success' => false, 'error' => 'unavailable']]);

        $result = $this->api->client()->post('/api/broadcast', ['event' => 'e'], 'key-1');

        $this->assertTrue($result->successful());
        $this->assertSame(3, $result->attempts);
        $this->assertCount(3, $this->api->requests());
    }

    public function test_every_attempt_carries_the_same_idempotency_key(): void
    {
        $this->api->answer('refused', [502, 'bad gateway'], [500, ['success' => false]]);

        $this->api->client()->post('/api/broadcast', ['event' => 'e'], 'the-key');

        $keys = array_map(static fn ($r) => $r->header('Idempotency-Key')[0] ?? null, $this->api->requests());
        $this->assertSame(['the-key', 'the-key', 'the-key', 'the-key'], $keys);
    }

    public function test_retries_go_at_once_without_sleeping_inside_the_request(): void
    {
        // Three failures, then an answer. The old client backed off 50-100, 100-200 and 200-400 ms
        // with usleep() between them (at least 350 ms); retrying at once takes a few ms of fakes.
        $this->api->answer([503, []], 'refused', [502, []]);

        $started = hrtime(true);
        $result = $this->api->client(['broadcasting' => ['retry_attempts' => 3]])->post('/api/broadcast', [], 'k');

        $this->assertTrue($result->successful());
        $this->assertSame(4, $result->attempts);
        $this->assertLessThan(0.3, (hrtime(true) - $started) / 1e9);
    }

    public function test_connection_errors_are_retried(): void
    {
        $this->api->answer('refused', 'refused');

        $result = $this->api->client()->post('/api/broadcast', [], 'k');

        $this->assertTrue($result->successful());
        $this->assertCount(3, $this->api->requests());
    }

    public function test_429_is_not_waited_for_inside_the_request_and_its_retry_after_is_reported(): void
    {
        $this->api->answer([429, ['success' => false, 'error' => 'rate_limited'], ['Retry-After' => '2']]);

        $result = $this->api->client()->post('/api/broadcast', [], 'k');

        $this->assertSame(429, $result->status);
        $this->assertSame('rate_limited', $result->errorCode());
        $this->assertSame(2, $result->retryAfter);
        $this->assertTrue($result->retriable());
        $this->assertCount(1, $this->api->requests());
    }

    /** @dataProvider clientErrors */
    public function test_4xx_other_than_429_is_never_retried(int $status, string $code): void
    {
        $this->api->answer([$status, ['success' => false, 'error' => $code]]);

        $result = $this->api->client()->post('/api/broadcast', [], 'k');

        $this->assertFalse($result->successful());
        $this->assertSame($status, $result->status);
        $this->assertSame($code, $result->errorCode());
        $this->assertCount(1, $this->api->requests());
        $this->assertFalse($result->retriable());
    }

    public static function clientErrors(): array
    {
        return [
            '400 invalid_json' => [400, 'invalid_json'],
            '401 unauthorized' => [401, 'unauthorized'],
            '413 payload_too_large' => [413, 'payload_too_large'],
            '415 unsupported_media_type' => [415, 'unsupported_media_type'],
            '422 validation_failed' => [422, 'validation_failed'],
        ];
    }

    public function test_retries_stop_after_retry_attempts(): void
    {
        $this->api->answerAlways([503, ['success' => false, 'error' => 'unavailable']]);

        $result = $this->api->client(['broadcasting' => ['retry_attempts' => 2]])->post('/api/broadcast', [], 'k');

        $this->assertSame(503, $result->status);
        $this->assertSame(3, $result->attempts);
        $this->assertCount(3, $this->api->requests());
    }

    public function test_zero_retry_attempts_means_one_request(): void
    {
        $this->api->answerAlways('refused');

        $result = $this->api->client(['broadcasting' => ['retry_attempts' => 0]])->post('/api/broadcast', [], 'k');

        $this->assertSame(ApiResponse::UNREACHABLE, $result->outcome);
        $this->assertStringContainsString('cURL error 7', (string) $result->error);
        $this->assertCount(1, $this->api->requests());
    }

    public function test_the_time_budget_covers_the_retries(): void
    {
        // Each answer takes 0.2 s: with 0.5 s in all, a third attempt would start too late... it starts
        // at 0.4 s with 0.1 s left, and no fourth one.
        $this->api->slow(0.2)->answerAlways([503, []]);

        $result = $this->api->client(['broadcasting' => ['timeout' => 0.5, 'retry_attempts' => 10]])
            ->post('/api/broadcast', [], 'k');

        $this->assertSame(503, $result->status);
        $this->assertCount(3, $this->api->requests());
    }

    public function test_nothing_is_sent_without_an_api_key(): void
    {
        $result = $this->api->client(['api_key' => null])->post('/api/broadcast', [], 'k');

        $this->assertSame(ApiResponse::NOT_CONFIGURED, $result->outcome);
        $this->assertStringContainsString('WEBSOCKET_API_KEY', (string) $result->error);
        $this->assertCount(0, $this->api->requests());
    }

    public function test_nothing_is_sent_without_a_server_url(): void
    {
        $result = $this->api->client(['server' => ['url' => '']])->get('/api/presence/online');

        $this->assertSame(ApiResponse::NOT_CONFIGURED, $result->outcome);
        $this->assertCount(0, $this->api->requests());
    }

    public function test_a_body_that_cannot_be_encoded_fails_without_retrying_or_throwing(): void
    {
        $result = $this->api->client()->post('/api/broadcast', ['data' => ['bad' => "\xB1\x31"]], 'k');

        $this->assertSame(ApiResponse::INVALID, $result->outcome);
        $this->assertSame(1, $result->attempts);
        $this->assertCount(0, $this->api->requests());
    }

    public function test_posts_keep_the_guides_headers_and_add_the_idempotency_key(): void
    {
        $this->api->client()->post('/api/broadcast', ['event' => 'notification'], 'k-1');

        $request = $this->api->requests()[0];
        $this->assertSame('POST', $request->method());
        $this->assertSame('http://127.0.0.1:3000/api/broadcast', $request->url());
        $this->assertSame([FakeRealtimeApi::KEY], $request->header('X-WebSocket-API-Key'));
        $this->assertSame(['application/json'], $request->header('Content-Type'));
        $this->assertSame(['k-1'], $request->header('Idempotency-Key'));
    }

    public function test_health_is_one_unauthenticated_attempt(): void
    {
        $this->api->answer('refused');

        $result = $this->api->client()->health();

        $this->assertSame(ApiResponse::UNREACHABLE, $result->outcome);
        $this->assertCount(1, $this->api->requests());
        $this->assertSame([], $this->api->requests()[0]->header('X-WebSocket-API-Key'));
    }

    public function test_the_api_key_is_redacted_from_errors(): void
    {
        $client = $this->api->client();

        $this->assertSame('key=[redacted]', $client->redact('key='.FakeRealtimeApi::KEY));
    }

    public function test_idempotency_keys_are_uuid_v4_and_unique(): void
    {
        $keys = array_map(static fn () => RealtimeClient::newIdempotencyKey(), range(1, 50));

        $this->assertCount(50, array_unique($keys));
        foreach ($keys as $key) {
            $this->assertMatchesRegularExpression('/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/', $key);
        }
    }
}
