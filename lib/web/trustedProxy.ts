import { type BlockList, isIP } from 'node:net';
import { readEnv, type Env } from '../config';
import { normalizeAddress, parsePublicUrl, parseTrustedProxies, type TrustedProxies } from './proxySettings';

export { parsePublicUrl, parseTrustedProxies, type TrustedProxies } from './proxySettings';

/**
 * Who is at the other end of a request, and which origin the dashboard is served under, decided
 * only from what can be trusted:
 *
 * - the socket peer address, stamped on the request by the front door (lib/web/frontDoor.ts)
 *   under a header name chosen at random per process, so a client cannot send it;
 * - `X-Forwarded-For`, `X-Forwarded-Host` and `X-Forwarded-Proto` only when the request came
 *   through a proxy named in `PROCVER_TRUSTED_PROXIES` (CIDRs the peer must be in, or a hop count);
 * - `PROCVER_PUBLIC_URL`, when set, for the origin and the scheme.
 *
 * Without a trusted proxy the client is unknown (null): behind an unconfigured proxy every client
 * would share the proxy's address, and the forwarded headers are whatever the client wrote.
 */
export interface ProxyConfig {
  proxies: TrustedProxies;
  /** origin of PROCVER_PUBLIC_URL, e.g. https://procver.example.com */
  publicOrigin: URL | null;
}

const PEER_HEADER_KEY = Symbol.for('procver.peerHeader');
const g = globalThis as unknown as { [PEER_HEADER_KEY]?: string };

/** The header the front door writes the socket peer into; random per process, so no client can guess it. */
export function peerHeaderName(create = false): string | null {
  if (!g[PEER_HEADER_KEY] && create) g[PEER_HEADER_KEY] = `x-procver-peer-${crypto.randomUUID()}`;
  return g[PEER_HEADER_KEY] ?? null;
}

let cached: { key: string; config: ProxyConfig } | null = null;

/** The proxy settings from the environment, parsed once per distinct value. */
export function proxyConfig(env: Env = readEnv()): ProxyConfig {
  const key = `${env.PROCVER_TRUSTED_PROXIES ?? ''}\n${env.PROCVER_PUBLIC_URL ?? ''}`;
  if (cached?.key !== key) cached = { key, config: { proxies: parseTrustedProxies(env.PROCVER_TRUSTED_PROXIES), publicOrigin: parsePublicUrl(env.PROCVER_PUBLIC_URL) } };
  return cached.config;
}

function inRanges(ranges: BlockList, ip: string): boolean {
  return ranges.check(ip, isIP(ip) === 4 ? 'ipv4' : 'ipv6');
}

export function peerAddress(headers: Headers): string | null {
  const name = peerHeaderName();
  const v = name ? headers.get(name) : null;
  return v ? normalizeAddress(v) : null;
}

/** Whether the request reached us through a configured trusted proxy (so its forwarded headers count). */
export function viaTrustedProxy(headers: Headers, config: ProxyConfig = proxyConfig()): boolean {
  const { proxies } = config;
  if (proxies.kind === 'hops') return proxies.hops > 0;
  if (proxies.kind === 'cidrs') {
    const peer = peerAddress(headers);
    return peer !== null && inRanges(proxies.ranges, peer);
  }
  return false;
}

/**
 * The client's address, or null when it cannot be known. The chain is X-Forwarded-For followed by
 * the socket peer; each trusted proxy appended the address it was connected from, so the client
 * is the first entry, from the right, that is not one of ours.
 */
export function clientAddress(headers: Headers, config: ProxyConfig = proxyConfig()): string | null {
  const { proxies } = config;
  if (proxies.kind === 'none') return null;
  const peer = peerAddress(headers);
  if (peer === null) return null;
  const forwarded = (headers.get('x-forwarded-for') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const chain = [...forwarded, peer];
  if (proxies.kind === 'hops') {
    const at = chain.length - 1 - proxies.hops;
    return at >= 0 ? normalizeAddress(chain[at]!) : null;
  }
  for (let i = chain.length - 1; i >= 0; i--) {
    const ip = normalizeAddress(chain[i]!);
    if (ip === null) return null;
    if (!inRanges(proxies.ranges, ip)) return ip;
  }
  return null;
}

const lastValue = (v: string | null) => v?.split(',').at(-1)?.trim() || null;

/**
 * The origin browsers use for this dashboard and whether it is https: PROCVER_PUBLIC_URL when
 * set; else the Host and scheme a trusted proxy forwarded (the nearest proxy's value); else the
 * Host header over plain http (`next start` serves no TLS itself).
 */
export function requestOrigin(headers: Headers, config: ProxyConfig = proxyConfig()): { origin: string; secure: boolean } | null {
  if (config.publicOrigin) return { origin: config.publicOrigin.origin, secure: config.publicOrigin.protocol === 'https:' };
  const trusted = viaTrustedProxy(headers, config);
  const host = (trusted ? lastValue(headers.get('x-forwarded-host')) : null) ?? headers.get('host');
  const proto = (trusted ? lastValue(headers.get('x-forwarded-proto')) : null) ?? 'http';
  if (!host || (proto !== 'http' && proto !== 'https')) return null;
  try {
    return { origin: new URL(`${proto}://${host}`).origin, secure: proto === 'https' };
  } catch {
    return null;
  }
}

/**
 * Mutations only from our own pages (the Origin equals ours, scheme included) or from clients
 * that send no Origin and no Sec-Fetch-Site (curl, automation).
 */
export function sameOrigin(headers: Headers, config: ProxyConfig = proxyConfig()): boolean {
  const origin = headers.get('origin');
  if (!origin) {
    const site = headers.get('sec-fetch-site');
    return site === null || site === 'same-origin';
  }
  const ours = requestOrigin(headers, config);
  if (!ours) return false;
  try {
    return new URL(origin).origin === ours.origin;
  } catch {
    return false;
  }
}
