# smsgw in a container: `docker build -t smsgw .` then
#   docker run -p 8080:8080 -p 2775:2775 -v smsgw-var:/app/var smsgw
# (no config: SQLite under /app/var, the simulator carrier and a demo account whose API key
# is printed on first start), or with a config file:
#   docker run -v ./smsgw.yaml:/etc/smsgw/smsgw.yaml:ro -e SMSGW_CONFIG=/etc/smsgw/smsgw.yaml ...
# See docs/operations.md.

# --- build stage: the production dependencies only (no compiler is needed: none is native).
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# --- runtime stage: Node 24 runs the TypeScript sources directly (type stripping, no build).
FROM node:24-bookworm-slim
# Memory (docs/operations.md, "Memory"): V8's young generation held to 8 MB semi-spaces,
# its old generation's growth to 30% over what is live (a flag NODE_OPTIONS refuses: on
# the ENTRYPOINT), gc exposed so that `serve` gives start-up's garbage back once started
# (also on the ENTRYPOINT), glibc's malloc to two arenas, and the TypeScript sources
# stripped once into Node's compile cache, not at every start.
ENV NODE_ENV=production \
    SMSGW_HTTP_LISTEN=0.0.0.0:8080 \
    SMSGW_SMPP_LISTEN=0.0.0.0:2775 \
    NODE_OPTIONS=--max-semi-space-size=8 \
    MALLOC_ARENA_MAX=2 \
    NODE_COMPILE_CACHE=/tmp/node-compile-cache
WORKDIR /app
RUN groupadd --system --gid 10001 smsgw \
 && useradd --system --uid 10001 --gid smsgw --home-dir /app --shell /usr/sbin/nologin smsgw \
 && mkdir -p /app/var /etc/smsgw \
 && chown smsgw:smsgw /app/var
COPY --from=deps /app/node_modules ./node_modules
COPY package.json LICENSE ./
COPY bin ./bin
COPY src ./src
# The store (SQLite), kept across container restarts and upgrades.
VOLUME ["/app/var"]
EXPOSE 8080 2775
USER smsgw
# Ready = store reachable and connectors bound (GET /ready, 200 or 503), on the HTTP port.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const p=(process.env.SMSGW_HTTP_LISTEN||'0.0.0.0:8080').split(':').pop();fetch('http://127.0.0.1:'+p+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM drains and exits 0; `docker stop` waits 10 s by default.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "--heap-growing-percent=30", "--expose-gc", "src/cli/main.ts"]
CMD ["serve"]
