import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbedded, type EmbeddedServer } from '../../lib/embedded';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

let server: EmbeddedServer | undefined;

/**
 * One real PostgreSQL for the run: PROCVER_TEST_ADMIN_URL (a role that may CREATE DATABASE)
 * if set, else an embedded server in a temporary directory. Each test file makes its own database.
 */
export async function setup(project: TestProject) {
  const external = process.env.PROCVER_TEST_ADMIN_URL;
  if (external) {
    project.provide('pgAdminUrl', external);
    return;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'procver-test-pg-'));
  server = await startEmbedded({ dataDir, ephemeral: true });
  project.provide('pgAdminUrl', server.adminUrl);
}

export async function teardown() {
  await server?.stop();
}
