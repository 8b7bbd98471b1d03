import { renderNginxConfig, Upstream } from "./nginx-config";

/** The realtime services of docker-compose.yml as nginx reaches them (service name, container port). */
export const COMPOSE_UPSTREAMS: Upstream[] = [
  { host: "realtime-1", port: 3000 },
  { host: "realtime-2", port: 3000 },
  { host: "realtime-3", port: 3000 },
];

/** The container port nginx listens on in docker-compose.yml. */
export const COMPOSE_NGINX_PORT = 80;

/** nginx/nginx.compose.conf as it must be: paths of the official nginx image, logs to the container output. */
export function renderComposeNginxConfig(): string {
  return renderNginxConfig({
    listen: String(COMPOSE_NGINX_PORT),
    upstreams: COMPOSE_UPSTREAMS,
    stickiness: "hash",
    tempDir: "/var/cache/nginx",
    pidFile: "/var/run/nginx.pid",
    errorLog: "stderr",
    accessLog: "/dev/stdout",
    workerProcesses: "auto",
  });
}
