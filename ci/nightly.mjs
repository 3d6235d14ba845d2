#!/usr/bin/env zx
// Nightly drill run: provision, drill every incident with the library and with the incidents'
// manual runbooks, keep each run's reports (journal.json, junit.xml, allure-results/, timeline.svg)
// as artifacts under DIR/<run>/, and fail if any drill did not recover. Under GitHub Actions each run
// appends its Markdown summary to the job summary ($GITHUB_STEP_SUMMARY).
//   npx zx ci/nightly.mjs [--backend lab|kind|lab,kind] [--pull] [--repeat N] [--draws N] [--out DIR] [--keep]
// --pull: kind's own node image by the digest in harness/components.json instead of one built here.
// then a fixed-seed fuzz round on a lab (--draws random faults, default 30): DIR/fuzz.json.
// --keep leaves the cluster for a look after a failure (`firedrill kind export-logs`, then `firedrill prune`).
import { $, argv, fs, path } from 'zx';

const repeat = String(argv.repeat ?? 3);
const backend = String(argv.backend ?? 'lab');
const keep = argv.keep ? ['--keep'] : [];
const pull = argv.pull ? ['--pull'] : [];
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
  const reports = path.join(out, run.name);
  const result = await $`npx firedrill run --backend ${backend} --repeat ${repeat} --report ${reports} ${keep} ${pull} ${run.args}`.nothrow();
  if (result.exitCode !== 0) failed++;
}
// A fixed-seed round of random faults on a lab keeps the library honest beyond the six incidents;
// the fixed seed makes a red night reproducible with the replay command it prints.
const fuzz = await $`npx firedrill fuzz --seed 1 --draws ${String(argv.draws ?? 30)} --faults 2 --name nfz --json`.nothrow();
await fs.writeFile(path.join(out, 'fuzz.json'), fuzz.stdout);
if (fuzz.exitCode !== 0) failed++;
console.log(`nightly: ${runs.length + 1 - failed}/${runs.length + 1} runs passed (drills recovered, fuzz sound); reports in ${out}/`);
process.exit(failed ? 1 : 0);
