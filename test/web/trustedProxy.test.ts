import { describe, expect, it } from 'vitest';
import { readEnv } from '../../lib/config';
import { frontDoorOptions } from '../../lib/web/frontDoor';
import { clientAddress, parsePublicUrl, parseTrustedProxies, peerHeaderName, proxyConfig, requestOrigin, sameOrigin, type ProxyConfig } from '../../lib/web/trustedProxy';

const peerHeader = peerHeaderName(true)!;

function headers(peer: string | null, h: Record<string, string> = {}): Headers {
  const out = new Headers(h);
  if (peer !== null) out.set(peerHeader, peer);
  return out;
}

const config = (proxies: string | undefined, publicUrl?: string): ProxyConfig => ({ proxies: parseTrustedProxies(proxies), publicOrigin: parsePublicUrl(publicUrl) });

describe('client identity and origin from trusted proxies only', () => {
  it('without a trusted proxy the client is unknown, whatever X-Forwarded-For says', () => {
    expect(clientAddress(headers('127.0.0.1', { 'x-forwarded-for': '203.0.113.5' }), config(undefined))).toBeNull();
    expect(clientAddress(headers('198.51.100.7'), config(undefined))).toBeNull();
  });

  it('hop count 0: clients connect directly and the socket peer is the client', () => {
    expect(clientAddress(headers('::ffff:198.51.100.7', { 'x-forwarded-for': '203.0.113.5' }), config('0'))).toBe('198.51.100.7');
  });

  it('hop count n: the n-th address from the right of X-Forwarded-For plus the peer; a client-written prefix does not move it', () => {
    const h = headers('10.0.0.2', { 'x-forwarded-for': '1.1.1.1, 203.0.113.5' });
    expect(clientAddress(h, config('1'))).toBe('203.0.113.5');
    expect(clientAddress(h, config('2'))).toBe('1.1.1.1');
    expect(clientAddress(h, config('3'))).toBeNull();
  });

  it('CIDRs: trusted only when the peer is in them; the first untrusted address from the right is the client', () => {
    const c = config('10.0.0.0/8, fd00::/8');
    expect(clientAddress(headers('10.0.0.2', { 'x-forwarded-for': 'spoofed, 203.0.113.5, 10.1.2.3' }), c)).toBe('203.0.113.5');
    // A client connecting directly (not from a proxy range) is itself, whatever it wrote.
    expect(clientAddress(headers('198.51.100.7', { 'x-forwarded-for': '203.0.113.5' }), c)).toBe('198.51.100.7');
    expect(clientAddress(headers('fd00::1', { 'x-forwarded-for': '[2001:db8::7]:4711' }), c)).toBe('2001:db8::7');
    // Without the front door's peer stamp nothing is trusted.
    expect(clientAddress(headers(null, { 'x-forwarded-for': '203.0.113.5' }), c)).toBeNull();
  });

  it('refuses settings that are neither CIDRs nor a hop count, naming the setting', () => {
    expect(() => parseTrustedProxies('10.0.0.0/33')).toThrow(/PROCVER_TRUSTED_PROXIES: "10.0.0.0\/33"/);
    expect(() => parseTrustedProxies('proxy.internal')).toThrow(/neither a CIDR/);
    expect(() => parseTrustedProxies('99')).toThrow(/hops/);
    expect(() => parsePublicUrl('procver.example.com')).toThrow(/PROCVER_PUBLIC_URL/);
  });

  it('origin: forwarded host and scheme count only from a trusted proxy; PROCVER_PUBLIC_URL wins; the scheme is compared', () => {
    const spoof = { host: '127.0.0.1:3000', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' };
    expect(requestOrigin(headers('127.0.0.1', spoof), config(undefined))).toEqual({ origin: 'http://127.0.0.1:3000', secure: false });
    expect(sameOrigin(headers('127.0.0.1', { ...spoof, origin: 'https://evil.example' }), config(undefined))).toBe(false);
    expect(sameOrigin(headers('127.0.0.1', { ...spoof, origin: 'https://127.0.0.1:3000' }), config(undefined))).toBe(false);
    expect(sameOrigin(headers('127.0.0.1', { ...spoof, origin: 'http://127.0.0.1:3000' }), config(undefined))).toBe(true);

    const behindTls = headers('10.0.0.2', {
      host: 'app:3000',
      'x-forwarded-host': 'procver.example.com',
      'x-forwarded-proto': 'https',
      origin: 'https://procver.example.com',
    });
    expect(requestOrigin(behindTls, config('10.0.0.0/8'))).toEqual({ origin: 'https://procver.example.com', secure: true });
    expect(sameOrigin(behindTls, config('10.0.0.0/8'))).toBe(true);
    // The same headers from outside the proxy range are the client's own words.
    expect(sameOrigin(headers('198.51.100.7', Object.fromEntries(behindTls)), config('10.0.0.0/8'))).toBe(false);

    const pub = config(undefined, 'https://procver.example.com/some/path');
    expect(requestOrigin(headers('127.0.0.1', { host: 'anything' }), pub)).toEqual({ origin: 'https://procver.example.com', secure: true });
    expect(sameOrigin(headers('127.0.0.1', { host: 'anything', origin: 'http://procver.example.com' }), pub)).toBe(false);
  });

  it('requests without an Origin pass unless the browser says they are cross-site', () => {
    expect(sameOrigin(headers(null, { host: 'x' }), config(undefined))).toBe(true);
    expect(sameOrigin(headers(null, { host: 'x', 'sec-fetch-site': 'cross-site' }), config(undefined))).toBe(false);
  });
});

describe('the dashboard settings come from lib/config.ts', () => {
  it('reads the proxies, the public URL and the request limit from the checked environment, with their defaults', () => {
    const set = proxyConfig(readEnv({ PROCVER_TRUSTED_PROXIES: '2', PROCVER_PUBLIC_URL: 'https://procver.example.com/some/path' }));
    expect([set.proxies, set.publicOrigin?.href]).toEqual([{ kind: 'hops', hops: 2 }, 'https://procver.example.com/']);
    expect(proxyConfig(readEnv({ PROCVER_TRUSTED_PROXIES: '' }))).toEqual({ proxies: { kind: 'none' }, publicOrigin: null });
    expect(frontDoorOptions(readEnv({}))).toEqual({ maxConcurrent: 16 });
    expect(frontDoorOptions(readEnv({ PROCVER_MAX_CONCURRENT_REQUESTS: '4' }))).toEqual({ maxConcurrent: 4 });
  });
});
