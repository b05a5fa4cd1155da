import { createReadStream } from 'node:fs';
import type { Manifest } from '../compile/manifest';
import { ProcverError } from '../errors';
import { parseManifest } from '../manifests';

/**
 * The largest manifest file read (32 MiB; ten thousand procedures take about 3 MiB). It is read
 * as a stream and abandoned at the cap, so a huge or endless file costs no more memory than this.
 */
export const MAX_MANIFEST_BYTES = 32 * 1024 * 1024;

export async function readManifestFile(path: string, opts: { maxBytes?: number } = {}): Promise<Manifest> {
  const maxBytes = opts.maxBytes ?? MAX_MANIFEST_BYTES;
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
      size += chunk.length;
      // Leaving the loop closes the stream.
      if (size > maxBytes) throw new ProcverError('invalid_input', `manifest ${path} is larger than ${maxBytes} bytes; is it a procver manifest?`);
      chunks.push(chunk);
    }
  } catch (e) {
    if (e instanceof ProcverError) throw e;
    throw new ProcverError('invalid_input', `cannot read manifest ${path}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks)));
  } catch (e) {
    throw new ProcverError('invalid_input', `cannot read manifest ${path}: ${(e as Error).message}`);
  }
  return parseManifest(raw, path);
}
