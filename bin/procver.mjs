#!/usr/bin/env node
// The procver CLI: runs lib/cli/main.ts through tsx, so the CLI and the web app share lib/.
import { register } from 'tsx/esm/api';

register();
await import('../lib/cli/main.ts');
