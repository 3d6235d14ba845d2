import { join } from 'node:path';
import { packageInfo } from '../package-info.js';

/** The committed JSON Schema of scenario files (generated from format.ts; a test keeps them equal). */
export const scenarioSchemaPath = () => join(packageInfo().root, 'schema', 'scenario.schema.json');
