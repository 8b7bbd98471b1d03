import { randomBytes } from "node:crypto";

/** Fresh per bench process: the servers only ever listen on 127.0.0.1, but nothing is left guessable. */
export const BENCH_API_KEY = `bench-${randomBytes(16).toString("hex")}`;
export const BENCH_JWT_SECRET = randomBytes(32).toString("hex");
