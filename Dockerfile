# syntax=docker/dockerfile:1
# The base images are build arguments so that a build can use mirrored or local copies of them.
ARG BUILD_IMAGE=node:22-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs22-debian12:nonroot

# Build stage: compile TypeScript, then keep only production dependencies.
FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# Runtime: distroless Node LTS, no shell, non-root numeric UID.
FROM ${RUNTIME_IMAGE}
WORKDIR /app
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
USER 65532:65532
EXPOSE 8080 8081
# The operator by default; with `check` first, `etcd-health check` (podman run --rm IMAGE check ...).
ENTRYPOINT ["/nodejs/bin/node", "dist/src/cli/operator.js"]
