/** Liveness: the server process answers. No session, no database (that is /api/ready). */
export function GET() {
  return Response.json({ status: 'ok' }, { headers: { 'cache-control': 'no-store' } });
}
