import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import Router from "@koa/router";
import type { ValidationDetail } from "@mechamap/protocol";
import { parseBroadcast } from "../../core/broadcast-request";
import type { Publisher } from "../../core/publisher";
import { RealtimeError, unavailableOnFailure, validationFailed } from "../../core/realtime-error";
import { readJsonBody } from "../body";

export interface DemoRouteOptions {
  publisher: Publisher;
  canPublish: () => boolean;
  /** A token for a demo user, as Laravel's RealtimeTokenIssuer would give it. */
  signToken: (userId: string) => string;
  maxPayloadBytes: number;
  maxJsonDepth: number;
}

/** The demo's files: its page and script, and the browser bundle, all from @mechamap/realtime-client. */
const FILES: Record<string, { path: string; type: string }> = {
  "/demo": { path: "demo/index.html", type: "text/html; charset=utf-8" },
  "/demo/demo.js": { path: "demo/demo.js", type: "text/javascript; charset=utf-8" },
  "/demo/realtime-client.global.js": { path: "dist/realtime-client.global.js", type: "text/javascript; charset=utf-8" },
};

/**
 * The development demo (never mounted in production): a page with two users side by side, and two
 * helpers no production node may have, since they bypass Laravel: a token for any user, and a
 * broadcast without the API key (the body of POST /api/broadcast, as Laravel sends it).
 */
export function demoRoutes(options: DemoRouteOptions): Router {
  const router = new Router();

  // A newcomer opening the node's root finds the demo rather than a 404.
  router.get("/", (ctx) => ctx.redirect("/demo"));

  for (const [route, file] of Object.entries(FILES)) {
    router.get(route, async (ctx) => {
      ctx.type = file.type;
      ctx.set("Cache-Control", "no-store");
      ctx.body = await readClientFile(file.path);
    });
  }

  router.post("/demo/token", async (ctx) => {
    const body = (await readJsonBody(ctx.req, options.maxPayloadBytes, options.maxJsonDepth)) as {
      user_id?: unknown;
    } | null;
    const userId = body?.user_id;
    if (!(typeof userId === "string" || typeof userId === "number") || !/^[A-Za-z0-9_-]{1,64}$/.test(String(userId))) {
      throw validationFailed([{ path: "user_id", message: "a user id" }]);
    }
    ctx.body = { token: options.signToken(String(userId)) };
  });

  router.post("/demo/broadcast", async (ctx) => {
    const problems: ValidationDetail[] = [];
    const command = parseBroadcast(
      await readJsonBody(ctx.req, options.maxPayloadBytes, options.maxJsonDepth),
      problems,
    );
    if (!command) throw validationFailed(problems);
    if (!options.canPublish()) throw new RealtimeError("unavailable", "this node cannot fan out right now");
    const result = await unavailableOnFailure(options.publisher.publish(command));
    ctx.body = { success: true, id: result.id };
  });

  return router;
}

/** Resolved when asked, so that a node runs without the client built (the demo then says so). */
async function readClientFile(path: string): Promise<Buffer> {
  try {
    const root = dirname(require.resolve("@mechamap/realtime-client/package.json"));
    return await readFile(join(root, path));
  } catch {
    throw new RealtimeError("not_found", `${path} of @mechamap/realtime-client is missing: run npm run build`);
  }
}
