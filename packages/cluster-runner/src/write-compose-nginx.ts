#!/usr/bin/env node
import { writeFileSync } from "node:fs";
import { renderComposeNginxConfig } from "./compose-nginx";
import { NGINX_COMPOSE_CONF } from "./paths";

// Regenerates the committed nginx/nginx.compose.conf after an edit of nginx/nginx.conf.template.
writeFileSync(NGINX_COMPOSE_CONF, renderComposeNginxConfig());
process.stdout.write(`wrote ${NGINX_COMPOSE_CONF}\n`);
