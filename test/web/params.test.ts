import { describe, expect, it } from 'vitest';
import { auditFilterFromParams, parseQuery, parseRoute, pathNamesText, queries, routes } from '../../lib/web/params';
import { readJsonBody } from '../../lib/web/requestBody';

describe('one parser for URL input', () => {
  it('route params are taken as decoded once by Next.js: %, %zz and %2F stay text; NUL and overlong names name nothing', () => {
    expect(parseRoute(routes.versionAction, { ref: '%', action: 'retire' })).toEqual({ ref: '%', action: 'retire' });
    expect(parseRoute(routes.versionAction, { ref: '..%2F..%2Fetc', action: 'restore' })).toEqual({ ref: '..%2F..%2Fetc', action: 'restore' });
    expect(parseRoute(routes.versionAction, { ref: '%zz', action: 'retire' })).toEqual({ ref: '%zz', action: 'retire' });
    expect(parseRoute(routes.versionAction, { ref: 'a\u0000b', action: 'retire' })).toBeNull();
    expect(parseRoute(routes.versionAction, { ref: 'x'.repeat(257), action: 'retire' })).toBeNull();
    expect(parseRoute(routes.versionAction, { ref: 'shop.f__0123456789', action: 'drop' })).toBeNull();
    expect(parseRoute(routes.deployment, { app: 'storefront', id: 'sf-102' })).toEqual({ app: 'storefront', id: 'sf-102' });
    expect(parseRoute(routes.deployment, { app: 'store/front', id: 'x' })).toBeNull();
    expect(pathNamesText('/versions/shop/%25zz')).toBe(true);
    expect(pathNamesText('/versions/shop/%00')).toBe(false);
    expect(pathNamesText('/versions/shop/%zz')).toBe(false);
  });

  it('usage ids: whole numbers within the column, never beyond it', () => {
    expect(parseQuery(queries.usage, new URLSearchParams('ids=3,1,3&window=7d'))).toEqual({ ok: true, value: { ids: [3, 1], window: '7d' } });
    for (const bad of ['ids=', 'ids=99999999999999999999', 'ids=2147483648', 'ids=1,,2', 'ids=%00', 'ids=-1', 'ids=1e3', 'ids=1&window=1y']) {
      expect(parseQuery(queries.usage, new URLSearchParams(bad)).ok, bad).toBe(false);
    }
  });

  it('audit filters: NUL, year 0000, impossible days and ids beyond a safe integer are refused with the field named', () => {
    expect(auditFilterFromParams(new URLSearchParams('actor=%00'))).toMatchObject({ ok: false, error: 'actor: contains a NUL character' });
    expect(auditFilterFromParams(new URLSearchParams('from=0000-01-01'))).toMatchObject({ ok: false, error: 'from: a date between 1900 and 9999' });
    expect(auditFilterFromParams(new URLSearchParams('to=2024-02-30')).ok).toBe(false);
    expect(auditFilterFromParams(new URLSearchParams('before=99999999999999999999')).ok).toBe(false);
    const ok = auditFilterFromParams({ actor: 'a', from: '2024-01-02', to: '', before: '7' });
    expect(ok).toEqual({ ok: true, value: { actor: 'a', from: new Date('2024-01-02T00:00:00Z'), to: undefined, before: 7 } });
  });
});

function post(body: BodyInit | null, headers: Record<string, string> = {}): Request {
  return new Request('http://x/api', { method: 'POST', body, headers, duplex: 'half' } as RequestInit);
}

describe('JSON bodies under a streaming size limit', () => {
  it('refuses a declared oversize body before reading, and a streamed one as soon as it passes the limit', async () => {
    expect(await readJsonBody(post('{}', { 'content-type': 'application/json', 'content-length': '999999' }), 1024)).toMatchObject({ ok: false, status: 413 });
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled++;
        c.enqueue(new Uint8Array(4096));
      },
    });
    expect(await readJsonBody(post(endless, { 'content-type': 'application/json' }), 10_000)).toMatchObject({ ok: false, status: 413 });
    expect(pulled).toBeLessThan(10);
  });

  it('takes JSON only (415 otherwise), no body as {}, and names bad JSON and bad UTF-8', async () => {
    expect(await readJsonBody(post('{"a":1}', { 'content-type': 'text/plain' }), 1024)).toMatchObject({ ok: false, status: 415 });
    expect(await readJsonBody(post('{"a":1}', { 'content-type': 'application/json; charset=utf-8' }), 1024)).toEqual({ ok: true, value: { a: 1 } });
    expect(await readJsonBody(post(null), 1024)).toEqual({ ok: true, value: {} });
    expect(await readJsonBody(post('{"a":', { 'content-type': 'application/json' }), 1024)).toMatchObject({
      ok: false,
      status: 400,
      error: 'request body is not valid JSON',
    });
    expect(await readJsonBody(post(new Uint8Array([0x22, 0xff, 0x22]), { 'content-type': 'application/json' }), 1024)).toMatchObject({
      ok: false,
      status: 400,
      error: 'request body is not valid UTF-8',
    });
  });
});
