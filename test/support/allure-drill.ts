import { BaseMessageTestRuntime, getGlobalTestRuntime } from 'allure-js-commons/sdk/runtime';
import { drillAllureMessages } from '../../harness/report/allure.js';
import { type DrillJournal } from '../../harness/report/journal.js';

/**
 * Records a drill in the running test's Allure result (allure-vitest), mapped exactly as
 * `firedrill report --allure` maps it. Without allure-vitest's reporter there is nothing to record to.
 */
export async function allureDrill(d: DrillJournal): Promise<void> {
  const runtime = getGlobalTestRuntime();
  if (!(runtime instanceof BaseMessageTestRuntime)) return;
  for (const message of drillAllureMessages(d)) await runtime.sendMessage(message);
}
