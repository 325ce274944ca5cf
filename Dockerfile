# Multi-stage, non-root. No Docker engine runs where Atelier is developed, so this file is kept simple
# and is not built in CI; it mirrors what `npm ci && npm start` does on a fresh machine.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
# better-sqlite3 and sharp ship prebuilt binaries for this platform; build tools are the fallback.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --include=optional && npm cache clean --force

FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8787 DATA_DIR=/data NODE_OPTIONS=--enable-source-maps
# glibc gives each thread that allocates its own malloc arena, and libvips' worker threads leave freed
# image memory scattered over them: two arenas took peak RSS over 50 jobs from 332 to 266 MiB
# (`npm run bench memory`; sharp's install notes and lovell/sharp#955 describe the same fragmentation).
# A fixed mmap threshold (MALLOC_MMAP_THRESHOLD_=131072) would lower RSS further (peak 302 -> 247 MiB) but
# keeps an idle process busy: 12.7 ms CPU per second, 20 s after its last job, against 0.4 without it
# (`BENCH_MALLOC=… BENCH_IDLE_SETTLE_MS=20000 npx tsx bench/run.ts idle`), so it is not set.
ENV MALLOC_ARENA_MAX=2
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY bin ./bin
COPY commands ./commands
COPY src ./src
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8787
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--import", "tsx", "src/cli.ts", "start"]
