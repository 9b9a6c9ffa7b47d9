// The typed environments: -c env picks one, the default is dev, an unknown name fails, and no two
// environments share a stack name or metrics namespace (the roots of every physical name).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ENVIRONMENT_NAMES, ENVIRONMENTS, environmentFor } from '../lib/environments';

describe('environments', () => {
  test('no env means dev, which keeps the stack name amazon-lite', () => {
    assert.equal(environmentFor(undefined).name, 'dev');
    assert.equal(environmentFor('').stackName, 'amazon-lite');
  });

  test('each name selects its own record', () => {
    for (const name of ENVIRONMENT_NAMES) assert.equal(environmentFor(name).name, name);
  });

  test('an unknown name fails with the allowed ones', () => {
    assert.throws(() => environmentFor('production'), /not one of dev, staging, prod/);
    assert.throws(() => environmentFor(3), /not one of/);
  });

  test('stack names and namespaces are distinct', () => {
    const all = Object.values(ENVIRONMENTS);
    assert.equal(new Set(all.map((e) => e.stackName)).size, all.length);
    assert.equal(new Set(all.map((e) => e.metricsNamespace)).size, all.length);
  });

  test('prod protects its table', () => {
    assert.equal(ENVIRONMENTS.prod.tableDeletionProtection, true);
    assert.equal(ENVIRONMENTS.prod.pointInTimeRecovery, true);
  });
});
