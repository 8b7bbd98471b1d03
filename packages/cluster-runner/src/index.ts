export type { Cluster, ClusterNode, ClusterOptions, ReadyInfo } from "./cluster";
export type { ExitStatus } from "./managed-process";
export { startCluster } from "./start-cluster";
export { renderNginxConfig } from "./nginx-config";
export type { NginxConfigOptions, Upstream } from "./nginx-config";
export { renderComposeNginxConfig, COMPOSE_UPSTREAMS, COMPOSE_NGINX_PORT } from "./compose-nginx";
export { startRedisCluster } from "./redis-cluster-servers";
export type { OwnRedisCluster } from "./redis-cluster-servers";
