import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { API_REFERENCE_PATH, renderApiReference } from '../../src/api/v1alpha1/reference.js';

describe('API reference', () => {
  it(`${API_REFERENCE_PATH} is generated from the current schema (run \`make manifests\` if this fails)`, () => {
    const committed = readFileSync(new URL(`../../${API_REFERENCE_PATH}`, import.meta.url), 'utf8');
    expect(committed).toBe(renderApiReference());
  });

  it('documents every default of the thresholds table', () => {
    const reference = renderApiReference();
    for (const row of [
      '`spec.thresholds.walFsyncP99.warning` | string | `"10ms"`',
      '`spec.thresholds.walFsyncP99.critical` | string | `"50ms"`',
      '`spec.thresholds.backendCommitP99.critical` | string | `"100ms"`',
      '`spec.thresholds.databaseSize.critical` | integer or string | `"8Gi"`',
      '`spec.thresholds.quotaUsage.criticalPercent` | integer (int64) | `85`',
      '`spec.thresholds.fragmentation.percent` | integer (int64) | `45`',
      '`spec.interval` | string | `"30s"`',
    ]) {
      expect(reference).toContain(row);
    }
  });
});
