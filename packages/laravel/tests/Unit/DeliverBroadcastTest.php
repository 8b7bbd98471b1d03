<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Tests\Unit;

use Illuminate\Broadcasting\BroadcastException;
use Illuminate\Contracts\Queue\Job;
use MechaMap\Realtime\Broadcasting\DeliverBroadcast;
use MechaMap\Realtime\Broadcasting\Delivery;
use MechaMap\Realtime\Tests\Support\FakeRealtimeApi;
use PHPUnit\Framework\TestCase;

final class DeliverBroadcastTest extends TestCase
{
    private FakeRealtimeApi $api;

    protected function setUp(): void
    {
        $this->api = new FakeRealtimeApi();
    }

    private function job(?Job $queueJob = null): DeliverBroadcast
    {
        $job = new DeliverBroadcast(Delivery::of('posted', ['news'], ['n' => 1], 'S', 'the-key'));
        if ($queueJob !== null) {
            $job->setJob($queueJob);
        }

        return $job;
    }

    private function work(DeliverBroadcast $job): void
    {
        // As the worker runs it: serialized onto the queue, unserialized, handled.
        $job = unserialize(serialize($job));
        $job->handle($this->api->client(['broadcasting' => ['retry_attempts' => 0]]), $this->api->logger);
    }

    public function test_every_attempt_sends_the_same_request_under_the_same_key_until_it_is_taken(): void
    {
        $this->api->answer([503, ['success' => false, 'error' => 'unavailable']], 'refused');
        $job = $this->job();

        foreach ([1, 2] as $attempt) {
            try {
                $this->work($job);
                $this->fail("attempt $attempt did not throw");
            } catch (BroadcastException) {
                // the queue tries again after $backoff
            }
        }
        $this->work($job);

        $requests = $this->api->requests();
        $this->assertCount(3, $requests);
        $this->assertSame(['the-key', 'the-key', 'the-key'], array_map(static fn ($r) => $r->header('Idempotency-Key')[0], $requests));
        $this->assertSame(['S', 'S', 'S'], array_map(static fn ($r) => $r->header('X-Socket-ID')[0], $requests));
        $this->assertCount(1, array_unique(array_map(static fn ($r) => $r->body(), $requests)));
        $this->assertSame('Queued realtime broadcast delivered', $this->api->logger->at('info')[0]['message']);
    }

    public function test_a_429_releases_the_job_for_its_retry_after(): void
    {
        $this->api->answer([429, ['success' => false, 'error' => 'rate_limited'], ['Retry-After' => '7']]);
        $queueJob = $this->createMock(Job::class);
        $queueJob->expects($this->once())->method('release')->with(7);
        $queueJob->expects($this->never())->method('fail');

        $this->job($queueJob)->handle($this->api->client(), $this->api->logger);
    }

    public function test_a_refusal_no_retry_can_change_fails_the_job_at_once(): void
    {
        $this->api->answer([422, ['success' => false, 'error' => 'validation_failed']]);
        $queueJob = $this->createMock(Job::class);
        $queueJob->expects($this->once())->method('fail')
            ->with($this->callback(static fn ($e) => $e instanceof BroadcastException && str_contains($e->getMessage(), 'validation_failed')));
        $queueJob->expects($this->never())->method('release');

        $this->job($queueJob)->handle($this->api->client(), $this->api->logger);
    }
}
