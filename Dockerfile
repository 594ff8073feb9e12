# syntax=docker/dockerfile:1
# The base images are build arguments so that a build can use mirrored or local copies of them.
ARG BUILD_IMAGE=node:22-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs22-debian12:nonroot

# Build stage: bundle the TypeScript with esbuild (hack/bundle.ts), then keep only the production
# dependencies the bundle leaves external (its package.json lists them; today etcd3 alone).
FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY hack/bundle.ts ./hack/
COPY src ./src
RUN npm run bundle && cp dist/bundle/package.json package.json && npm prune --omit=dev --no-audit --no-fund

# Runtime: distroless Node LTS, no shell, non-root numeric UID. The bundle keeps the npm package's
# entry points: dist/src/cli/operator.js and dist/src/cli/check.js.
FROM ${RUNTIME_IMAGE}
WORKDIR /app
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/bundle ./dist
COPY --from=build /src/package.json ./
USER 65532:65532
EXPOSE 8080 8081
# The operator by default; with `check` first, `etcd-health check` (podman run --rm IMAGE check ...).
ENTRYPOINT ["/nodejs/bin/node", "dist/src/cli/operator.js"]
