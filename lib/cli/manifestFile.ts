import { readFile } from 'node:fs/promises';
import type { Manifest } from '../compile/manifest';
import { ProcverError } from '../errors';
import { parseManifest } from '../manifests';

export async function readManifestFile(path: string): Promise<Manifest> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new ProcverError('invalid_input', `cannot read manifest ${path}: ${(e as Error).message}`);
  }
  return parseManifest(raw, path);
}
