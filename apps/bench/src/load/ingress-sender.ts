import { Agent, request } from "node:http";
import Redis from "ioredis";
import type { Ingress } from "../targets/target";

/** Sends one event; resolves true when the target accepted it (2xx / PUBLISH done). */
export type Send = (channel: string, event: string, data: object) => Promise<boolean>;

export interface Sender {
  send: Send;
  close(): Promise<void>;
}

export async function createSender(ingress: Ingress): Promise<Sender> {
  return ingress.kind === "http" ? httpSender(ingress) : await redisSender(ingress);
}

function httpSender(ingress: Extract<Ingress, { kind: "http" }>): Sender {
  // Enough sockets that a slow answer never holds back the next due event (open loop).
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const url = new URL(ingress.url);
  const send: Send = (channel, event, data) =>
    new Promise((resolve) => {
      const body = ingress.body(channel, event, data);
      const req = request(
        {
          agent,
          method: "POST",
          hostname: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
          headers: { ...ingress.headers, "Content-Length": Buffer.byteLength(body) },
          timeout: 10_000,
        },
        (res) => {
          res.resume();
          res.once("end", () => resolve(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300));
        },
      );
      req.setNoDelay(true);
      req.once("timeout", () => req.destroy(new Error("timeout")));
      req.once("error", () => resolve(false));
      req.end(body);
    });
  return { send, close: async () => agent.destroy() };
}

async function redisSender(ingress: Extract<Ingress, { kind: "redis" }>): Promise<Sender> {
  const redis = new Redis({ host: "127.0.0.1", port: ingress.port, maxRetriesPerRequest: 1 });
  const send: Send = async (channel, event, data) => {
    try {
      await redis.publish(ingress.redisChannel(channel), ingress.message(event, data));
      return true;
    } catch {
      return false;
    }
  };
  return { send, close: async () => void redis.disconnect() };
}
