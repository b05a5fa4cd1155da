import { BlockList, isIP } from 'node:net';
import { ProcverError } from '../errors';

/**
 * The formats of PROCVER_TRUSTED_PROXIES and PROCVER_PUBLIC_URL, apart from lib/web/trustedProxy.ts
 * so that lib/config.ts can check both when procver starts without importing the request logic
 * (which reads its settings from lib/config.ts).
 */
export type TrustedProxies =
  | { kind: 'none' }
  /** this many proxies in front, each appending its peer to X-Forwarded-For; 0: clients connect directly */
  | { kind: 'hops'; hops: number }
  | { kind: 'cidrs'; ranges: BlockList };

export function normalizeAddress(a: string): string | null {
  let s = a.trim();
  // "[::1]:1234" and "1.2.3.4:5678" as some proxies write them
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (bracketed) s = bracketed[1]!;
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(s)) s = s.slice(0, s.lastIndexOf(':'));
  if (s.toLowerCase().startsWith('::ffff:') && isIP(s.slice(7)) === 4) s = s.slice(7);
  return isIP(s) ? s.toLowerCase() : null;
}

export function parseTrustedProxies(raw: string | undefined): TrustedProxies {
  const value = raw?.trim();
  if (!value) return { kind: 'none' };
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops > 10)
      throw new ProcverError(
        'config',
        `PROCVER_TRUSTED_PROXIES: ${hops} hops is more than any real proxy chain; give the number of proxies in front of procver (0 to 10) or their CIDRs`,
      );
    return { kind: 'hops', hops };
  }
  const ranges = new BlockList();
  for (const part of value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [addr, bits, extra] = part.split('/');
    const ip = addr ? normalizeAddress(addr) : null;
    const family = ip ? isIP(ip) : 0;
    const prefix = bits === undefined ? (family === 4 ? 32 : 128) : /^\d+$/.test(bits) ? Number(bits) : NaN;
    if (!ip || extra !== undefined || !(prefix >= 0 && prefix <= (family === 4 ? 32 : 128))) {
      throw new ProcverError(
        'config',
        `PROCVER_TRUSTED_PROXIES: "${part}" is neither a CIDR (10.0.0.0/8, fd00::/8, 127.0.0.1) nor a hop count; fix the setting or unset it`,
      );
    }
    ranges.addSubnet(ip, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return { kind: 'cidrs', ranges };
}

export function parsePublicUrl(raw: string | undefined): URL | null {
  const value = raw?.trim();
  if (!value) return null;
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new ProcverError('config', `PROCVER_PUBLIC_URL: "${value}" is not a URL; set it to the address people open, e.g. https://procver.example.com`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new ProcverError('config', `PROCVER_PUBLIC_URL: "${value}" must start with https:// or http://`);
  return new URL(u.origin);
}
