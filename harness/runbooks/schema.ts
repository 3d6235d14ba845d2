import { join } from 'node:path';
import { packageInfo } from '../package-info.js';

/** The committed JSON Schema of runbook files (generated from format.ts; a test keeps them equal). */
export const schemaPath = () => join(packageInfo().root, 'schema', 'runbook.schema.json');
