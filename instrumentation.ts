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
    loadSettings();
    const { installFrontDoor } = await import('./lib/web/frontDoor');
    installFrontDoor();
  }
}
