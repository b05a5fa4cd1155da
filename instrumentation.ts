/**
 * Runs once when the Next.js server starts: checks every setting (procver.config.json and the
 * environment, lib/config.ts), so a bad one stops the dashboard at start with its name and fix
 * instead of failing its first requests; then puts the front door (lib/web/frontDoor.ts) before
 * every request.
 */
export async function register() {
  // NEXT_RUNTIME is Next.js's own variable, not a procver setting: the Node-only modules below
  // must not be loaded into the edge bundle.
  if (process.env.NEXT_RUNTIME === 'nodejs') {
    const { loadSettings } = await import('./lib/config');
    try {
      loadSettings();
    } catch (e) {
      // Next.js would log a thrown error and go on serving failures: stop instead, as the CLI does.
      console.error(`procver: ${(e as Error).message}`);
      process.exit(3);
    }
    const { installFrontDoor } = await import('./lib/web/frontDoor');
    installFrontDoor();
  }
}
