import type { Command } from './command';

/**
 * Every command, in help order. A command's module is imported only when that command runs (or for
 * `procver help`, which reads every declaration); its heavy dependencies load inside its `run`.
 */
const loaders: Record<string, () => Promise<{ command: Command }>> = {
  compile: () => import('./commands/compile'),
  push: () => import('./commands/push'),
  import: () => import('./commands/import'),
  migrate: () => import('./commands/migrate'),
  deployments: () => import('./commands/deployments'),
  collect: () => import('./commands/collect'),
  retire: () => import('./commands/retire'),
  restore: () => import('./commands/restore'),
  cleanup: () => import('./commands/cleanup'),
  check: () => import('./commands/check'),
  users: () => import('./commands/users'),
  audit: () => import('./commands/audit'),
  dashboard: () => import('./commands/dashboard'),
  dev: () => import('./commands/dev'),
};

const commandNames = Object.keys(loaders);

export async function loadCommand(name: string): Promise<Command | undefined> {
  return Object.hasOwn(loaders, name) ? (await loaders[name]!()).command : undefined;
}

export async function loadAllCommands(): Promise<Command[]> {
  return Promise.all(commandNames.map(async (name) => (await loaders[name]!()).command));
}
