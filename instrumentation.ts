/** Runs once when the Next.js server starts: puts the front door (lib/web/frontDoor.ts) before every request. */
export async function register() {
  if (process.env.NEXT_RUNTIME === 'nodejs') {
    const { installFrontDoor } = await import('./lib/web/frontDoor');
    installFrontDoor();
  }
}
