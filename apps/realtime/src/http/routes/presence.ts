import Router from "@koa/router";
import { normaliseId, threadChannel } from "@mechamap/protocol";
import type { PresenceStore, SocketDirectory } from "../../core/ports";
import { unavailableOnFailure, validationFailed } from "../../core/realtime-error";

export interface PresenceRouteOptions {
  presence: PresenceStore;
  directory: SocketDirectory;
}

const MAX_IDS = 1000;
const MAX_PAGE = 1000;

function requireId(raw: string, path: string): string {
  const id = normaliseId(/^\d+$/.test(raw) ? Number(raw) : raw);
  if (id === undefined)
    throw validationFailed([{ path, message: "must be a positive integer or 1-64 of [A-Za-z0-9_-]" }]);
  return id;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** Presence queries, thread viewers and the user kick. */
export function presenceRoutes({ presence, directory }: PresenceRouteOptions): Router {
  const router = new Router();

  router.get("/api/presence/users/:id", async (ctx) => {
    const userId = requireId(ctx.params.id, "id");
    const found = (await unavailableOnFailure(presence.lookup([userId]))).get(userId);
    ctx.body = {
      user_id: userId,
      online: found?.online ?? false,
      connections: found?.connections ?? 0,
      last_seen: iso(found?.lastSeen ?? null),
    };
  });

  router.get("/api/presence/users", async (ctx) => {
    const raw = typeof ctx.query.ids === "string" ? ctx.query.ids.split(",").filter(Boolean) : [];
    if (raw.length === 0 || raw.length > MAX_IDS) {
      throw validationFailed([{ path: "ids", message: `must list 1-${MAX_IDS} comma-separated user ids` }]);
    }
    const ids = [...new Set(raw.map((id, index) => requireId(id, `ids[${index}]`)))];
    const found = await unavailableOnFailure(presence.lookup(ids));
    const users: Record<string, { online: boolean; connections: number }> = {};
    for (const id of ids)
      users[id] = { online: found.get(id)?.online ?? false, connections: found.get(id)?.connections ?? 0 };
    ctx.body = { users };
  });

  router.get("/api/presence/online", async (ctx) => {
    const limit = ctx.query.limit === undefined ? 100 : Number(ctx.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      throw validationFailed([{ path: "limit", message: `must be a whole number from 1 to ${MAX_PAGE}` }]);
    }
    const cursor =
      typeof ctx.query.cursor === "string" && ctx.query.cursor !== "" ? requireId(ctx.query.cursor, "cursor") : null;
    const page = await unavailableOnFailure(presence.listOnline(limit, cursor));
    ctx.body = { count: page.count, user_ids: page.userIds, next_cursor: page.nextCursor };
  });

  router.get("/api/threads/:id/viewers", async (ctx) => {
    const threadId = requireId(ctx.params.id, "id");
    const userIds = await unavailableOnFailure(directory.userIdsIn(threadChannel(threadId)));
    ctx.body = { thread_id: threadId, count: userIds.length, user_ids: userIds };
  });

  router.post("/api/users/:id/disconnect", async (ctx) => {
    const userId = requireId(ctx.params.id, "id");
    await unavailableOnFailure(directory.disconnectUser(userId));
    ctx.body = { success: true, user_id: userId };
  });

  return router;
}
