import { afterAll } from 'vitest';
import { disposeAll } from '../helpers/disposal';

// Top level of a setup file: vitest attaches this hook to every test file's root suite.
afterAll(disposeAll);
