/**
 * Baseline: bare socket.io 4.8 + @socket.io/redis-adapter's classic adapter (one PSUBSCRIBE: every
 * node reads every event), the minimum a team would write by hand (socketio-node.ts).
 * Run as a program: PORT, API_KEY, JWT_SECRET, and REDIS_PORT or REDIS_CLUSTER_NODES.
 */
import { createAdapter } from "@socket.io/redis-adapter";
import { runSocketIoNode } from "./socketio-node";
import { redisClientsFromEnv } from "./socketio-redis-clients";

const redis = redisClientsFromEnv({ sharded: false });
runSocketIoNode({ adapter: createAdapter(redis.pub, redis.sub), close: redis.close });
