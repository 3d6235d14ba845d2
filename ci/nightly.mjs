#!/usr/bin/env zx
// Nightly drill run: provision, drill every incident with the library and with the incidents'
// manual runbooks, keep each journal as an artifact, and fail if any drill did not recover.
//   npx zx ci/nightly.mjs [--repeat N] [--out DIR]
import { $, argv, fs, path } from 'zx';

const repeat = String(argv.repeat ?? 3);
const out = path.resolve(argv.out ?? 'artifacts/nightly');
await fs.mkdirp(out);
$.verbose = true;

await $`./ci/setup`;
const runs = [
  { name: 'library', args: [] },
  { name: 'manual-runbooks', args: ['--runbook', 'manual'] },
];
let failed = 0;
for (const run of runs) {
  const journal = path.join(out, `${run.name}.json`);
  const result = await $`npx firedrill run --repeat ${repeat} --journal ${journal} ${run.args}`.nothrow();
  if (result.exitCode !== 0) failed++;
}
console.log(`nightly: ${runs.length - failed}/${runs.length} runs recovered every drill; journals in ${out}`);
process.exit(failed ? 1 : 0);
