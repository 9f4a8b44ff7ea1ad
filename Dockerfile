# syntax=docker/dockerfile:1
# The listwash image: `docker run --rm listwash <command> …` runs `listwash <command> …`
# (worker, clean, submit, status, verify, demo; see the README). Used by every listwash service of
# docker-compose.yml.
#
#   docker build -t listwash .
#   docker run --rm listwash --help
#
# Base images are pinned to an exact Node 20 release on Debian 12 (bookworm), slim variant.

# --- build: every dependency, TypeScript compiled to dist/ -----------------------------------------
# The same commands as .ci/run and the tests (test/container/dockerfile.test.ts checks it). The sources
# are copied before `npm ci` so that a `prepare` script that builds finds them.
FROM node:20.20.2-bookworm-slim AS build
WORKDIR /app
COPY . .
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
RUN npm run build

# --- runtime: production dependencies only, non-root, an init process as PID 1 --------------------
FROM node:20.20.2-bookworm-slim AS runtime
# tini is PID 1: it forwards SIGTERM/SIGINT to Node (a graceful worker stop finishes its sessions and
# releases its leases) and reaps zombies.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no lifecycle script runs here (a `prepare` that builds would need the dev dependencies).
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY --from=build /app/dist ./dist
COPY bin ./bin
RUN ln -s /app/bin/listwash.js /usr/local/bin/listwash
# The node image's unprivileged user (uid 1000).
USER node
ENTRYPOINT ["/usr/bin/tini", "--", "listwash"]
CMD ["--help"]
