#!/usr/bin/env zx
// Nightly drill run: provision, drill every incident with the library and with the incidents'
// manual runbooks, keep each journal as an artifact, and fail if any drill did not recover.
//   npx zx ci/nightly.mjs [--backend lab|kind|lab,kind] [--repeat N] [--out DIR] [--keep]
// --keep leaves the cluster for a look after a failure (`firedrill kind export-logs`, then `firedrill prune`).
import { $, argv, fs, path } from 'zx';

const repeat = String(argv.repeat ?? 3);
const backend = String(argv.backend ?? 'lab');
const keep = argv.keep ? ['--keep'] : [];
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
  const result = await $`npx firedrill run --backend ${backend} --repeat ${repeat} --journal ${journal} ${keep} ${run.args}`.nothrow();
  if (result.exitCode !== 0) failed++;
}
console.log(`nightly: ${runs.length - failed}/${runs.length} runs recovered every drill; journals in ${out}`);
process.exit(failed ? 1 : 0);
