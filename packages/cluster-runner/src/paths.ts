import { resolve } from "node:path";

/** The monorepo root: both src/ (ts-jest) and dist/ (node) sit three levels below it. */
export const REPO_ROOT = resolve(__dirname, "..", "..", "..");

/** The built realtime node (`npm run build`, or tsc -p apps/realtime/tsconfig.build.json). */
export const NODE_MAIN = resolve(REPO_ROOT, "apps", "realtime", "dist", "main.js");

/** The one nginx template, shared by the local runner and docker compose. */
export const NGINX_TEMPLATE = resolve(REPO_ROOT, "nginx", "nginx.conf.template");

/** The rendered config docker compose mounts; kept equal to the template by a test. */
export const NGINX_COMPOSE_CONF = resolve(REPO_ROOT, "nginx", "nginx.compose.conf");
