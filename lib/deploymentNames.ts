import { z } from 'zod';
import { ProcverError } from './errors';

/**
 * What a deployment's app and id may be: letters, digits, `.`, `_`, `-` and `+` (a git SHA, a
 * semver with build metadata), starting with a letter or digit; an app at most 64 characters,
 * an id at most 128. No `/`, so `APP/ID` names exactly one deployment, and nothing a URL, a shell
 * or a terminal would read differently.
 */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;
export const MAX_APP_LENGTH = 64;
export const MAX_DEPLOYMENT_ID_LENGTH = 128;
const rule = 'letters, digits, . _ - + only, starting with a letter or digit';

export const deploymentApp = z
  .string()
  .min(1, 'an app is required')
  .max(MAX_APP_LENGTH, `an app has at most ${MAX_APP_LENGTH} characters`)
  .regex(NAME, `an app has ${rule}`);
export const deploymentId = z
  .string()
  .min(1, 'a deployment id is required')
  .max(MAX_DEPLOYMENT_ID_LENGTH, `a deployment id has at most ${MAX_DEPLOYMENT_ID_LENGTH} characters`)
  .regex(NAME, `a deployment id has ${rule}`);
export const deploymentKey = z.object({ app: deploymentApp, id: deploymentId });

/** An app and id as given (flags, URLs), or invalid_input naming what is wrong. */
export function checkDeploymentKey(app: string, id: string): { app: string; id: string } {
  const parsed = deploymentKey.safeParse({ app, id });
  if (!parsed.success)
    throw new ProcverError('invalid_input', parsed.error.issues.map((i) => `${JSON.stringify(i.path[0] === 'app' ? app : id)}: ${i.message}`).join('; '));
  return parsed.data;
}

/** `APP/ID` as one argument: exactly one `/`, both sides valid names. */
export function parseDeploymentRef(ref: string): { app: string; id: string } {
  const parts = ref.split('/');
  if (parts.length !== 2) throw new ProcverError('invalid_input', `"${ref}" is not APP/ID (one app, one "/", one deployment id, e.g. storefront/sf-102)`);
  return checkDeploymentKey(parts[0]!, parts[1]!);
}
