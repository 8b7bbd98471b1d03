<?php

declare(strict_types=1);

namespace MechaMap\Realtime\Tests\Unit;

use MechaMap\Realtime\Client\ClientConfig;
use PHPUnit\Framework\TestCase;

final class ClientConfigTest extends TestCase
{
    public function test_nodejs_broadcast_url_wins_over_websocket_server_url_when_set(): void
    {
        $config = ClientConfig::fromArray([
            'server' => ['url' => 'https://realtime.example.com'],
            'broadcasting' => ['url' => 'http://10.0.0.5:3000/'],
        ]);

        $this->assertSame('http://10.0.0.5:3000', $config->baseUrl);
    }

    public function test_websocket_server_url_is_used_when_nodejs_broadcast_url_is_unset(): void
    {
        $config = ClientConfig::fromArray(['server' => ['url' => 'http://127.0.0.1:3000/'], 'broadcasting' => ['url' => null]]);

        $this->assertSame('http://127.0.0.1:3000', $config->baseUrl);
    }

    public function test_the_guides_placeholder_broadcast_url_does_not_override_a_configured_server_url(): void
    {
        // The guide's config/websocket.php: env('NODEJS_BROADCAST_URL', 'https://realtime.mechamap.com').
        $config = ClientConfig::fromArray([
            'server' => ['url' => 'http://127.0.0.1:3000'],
            'broadcasting' => ['url' => ClientConfig::GUIDE_PLACEHOLDER_URL],
        ]);

        $this->assertSame('http://127.0.0.1:3000', $config->baseUrl);
    }

    public function test_the_placeholder_is_used_when_it_is_the_only_url(): void
    {
        $config = ClientConfig::fromArray([
            'server' => ['url' => ClientConfig::GUIDE_PLACEHOLDER_URL],
            'broadcasting' => ['url' => ClientConfig::GUIDE_PLACEHOLDER_URL],
        ]);

        $this->assertSame(ClientConfig::GUIDE_PLACEHOLDER_URL, $config->baseUrl);
    }

    public function test_missing_settings_fall_back_to_the_guides_timeout_and_retries(): void
    {
        $config = ClientConfig::fromArray([]);

        $this->assertSame('', $config->baseUrl);
        $this->assertNull($config->apiKey);
        $this->assertSame(10.0, $config->timeout);
        $this->assertSame(3, $config->retryAttempts);
    }

    public function test_timeout_and_retries_come_from_the_broadcasting_section(): void
    {
        $config = ClientConfig::fromArray(['broadcasting' => ['timeout' => '2.5', 'retry_attempts' => '0']]);

        $this->assertSame(2.5, $config->timeout);
        $this->assertSame(0, $config->retryAttempts);
    }

    public function test_nonsense_values_are_clamped(): void
    {
        $config = ClientConfig::fromArray(['broadcasting' => ['timeout' => -1, 'retry_attempts' => 99]]);

        $this->assertSame(10.0, $config->timeout);
        $this->assertSame(10, $config->retryAttempts);
    }

    public function test_a_blank_api_key_counts_as_missing(): void
    {
        $this->assertNull(ClientConfig::fromArray(['api_key' => '  '])->apiKey);
        $this->assertSame('k', ClientConfig::fromArray(['api_key' => ' k '])->apiKey);
    }
}
