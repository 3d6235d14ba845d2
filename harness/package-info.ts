import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** firedrill's own package.json, found by walking up from this module (it runs from dist/ or from source). */
export function packageInfo(): { version: string; root: string } {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'firedrill' && pkg.version) return { version: pkg.version, root: dir };
    } catch {
      // not here: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('firedrill: cannot find its own package.json');
    dir = parent;
  }
}
