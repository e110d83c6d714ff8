# One image for every Rollcall role; the role is chosen at run time with SERVICES.
FROM node:22-slim
WORKDIR /app
# node-av opens, reads and decodes on libuv's thread pool: a few cameras stuck in a connect
# timeout must not starve the others (the default pool has 4 threads).
ENV NODE_ENV=production HOST=0.0.0.0 DATA_DIR=/data MODELS_DIR=/app/onnx-models UV_THREADPOOL_SIZE=128
COPY package.json package-lock.json .npmrc ./
COPY scripts ./scripts
COPY config ./config
# postinstall fetches the ONNX models from the npm registry and checks their SHA-256.
RUN npm ci --omit=dev && npm cache clean --force
COPY . .
# The web console (web/, its own package.json): built into web/dist, its build tools removed.
RUN node --import tsx scripts/build-web.ts --strict && rm -rf web/node_modules && npm cache clean --force
EXPOSE 8000 3030
CMD ["node", "--import", "tsx", "scripts/start.ts"]
