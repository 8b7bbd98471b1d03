import { signToken } from "./auth/jwt-token-verifier";
import type { Config } from "./config/schema";
import type { LoadedConfig } from "./config/load-config";

/**
 * What a developer needs to try the node at once, when it made up its own secrets:
 * the secrets, a curl that broadcasts, and a token to connect with.
 */
export function developmentExample(config: Config, generated: LoadedConfig["generated"], port: number): string {
  const base = `http://localhost:${port}`;
  const token = signToken(config.jwtSecret, "1", 24 * 3600);
  const body = JSON.stringify({
    event: "notification",
    to: "user",
    user_id: 1,
    data: { title: "Hello from MechaMap Realtime" },
  });
  return [
    "",
    "MechaMap Realtime is running in development mode with generated secrets (set them in .env to keep them):",
    ...(generated.jwtSecret ? [`  JWT_SECRET=${generated.jwtSecret}`] : []),
    ...(generated.apiKey ? [`  LARAVEL_API_KEY=${generated.apiKey}`] : []),
    "",
    "Connect a client as user 1 with this token (valid 24 h):",
    `  TOKEN=${token}`,
    `  io("${base}", { auth: { token: "${token}" } }).on("notification", (data, meta) => console.log(data, meta));`,
    "",
    "Then send it a notification:",
    `  curl -sS -X POST ${base}/api/broadcast -H 'Content-Type: application/json' -H 'X-WebSocket-API-Key: ${config.laravelApiKey}' -d '${body}'`,
    "",
    "Or open the demo (a forum thread, two users side by side, with @mechamap/realtime-client):",
    `  ${base}/demo`,
    "",
  ].join("\n");
}
