// The loaders of infra/routes.json, infra/table.json and infra/consumers.json accept the real files
// and reject malformed ones with a message naming the entry (no synth here).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConsumers, loadRoutes, loadTableSpec, parseConsumers, parseRoutes, parseTableSpec, servicesOf } from '../lib/config';

const route = {
  method: 'GET',
  path: '/v1/products/{id}',
  service: 'catalog',
  function: 'catalog-get-product',
  auth: 'public',
  table: 'read',
};

describe('routes.json loader', () => {
  test('loads the real file', () => {
    const routes = loadRoutes();
    assert.ok(routes.length > 0);
    assert.ok(servicesOf(routes).length > 0);
  });

  test('accepts a valid route, greedy paths and ANY', () => {
    assert.deepEqual(parseRoutes({ routes: [route] }), [route]);
    assert.equal(parseRoutes({ routes: [{ ...route, method: 'ANY', path: '/v1/{proxy+}' }] })[0].method, 'ANY');
  });

  const rejects: [string, unknown, RegExp][] = [
    ['no routes key', {}, /expected \{"routes"/],
    ['empty', { routes: [] }, /no routes/],
    ['bad method', { routes: [{ ...route, method: 'FETCH' }] }, /routes\[0\]\.method/],
    ['bad auth', { routes: [{ ...route, auth: 'root' }] }, /routes\[0\]\.auth .*public\|bearer\|admin/],
    ['bad table', { routes: [{ ...route, table: 'write' }] }, /routes\[0\]\.table .*none\|read\|readWrite/],
    ['bad path', { routes: [{ ...route, path: 'v1/x' }] }, /routes\[0\]\.path/],
    ['bad service', { routes: [{ ...route, service: '../etc' }] }, /routes\[0\]\.service/],
    ['missing function', { routes: [{ ...route, function: undefined }] }, /routes\[0\]\.function/],
    ['duplicate route key', { routes: [route, { ...route, function: 'other' }] }, /routes\[1\]: duplicate route GET/],
    ['duplicate function', { routes: [route, { ...route, method: 'PUT' }] }, /routes\[1\]: duplicate function/],
  ];
  for (const [name, json, message] of rejects) {
    test(`rejects ${name}`, () => {
      assert.throws(() => parseRoutes(json), message);
    });
  }
});

describe('table.json loader', () => {
  test('loads the real file', () => {
    const t = loadTableSpec();
    assert.equal(t.partitionKey, 'PK');
    assert.equal(t.globalSecondaryIndexes.length, 2);
  });

  test('rejects an unknown stream view type', () => {
    const t = { ...loadTableSpec(), stream: 'EVERYTHING' };
    assert.throws(() => parseTableSpec(t), /stream/);
  });

  test('rejects a GSI without a sort key', () => {
    const t = { ...loadTableSpec(), globalSecondaryIndexes: [{ indexName: 'GSI1', partitionKey: 'GSI1PK' }] };
    assert.throws(() => parseTableSpec(t), /globalSecondaryIndexes\[0\]\.sortKey/);
  });
});

describe('consumers.json loader', () => {
  const consumer = {
    name: 'inventory-catalog-sync',
    service: 'inventory',
    binary: 'inventory',
    detailTypes: ['product.created.v1', 'product.deleted.v1'],
  };

  test('loads the real file', () => {
    const consumers = loadConsumers();
    assert.ok(consumers.length > 0);
    assert.ok(consumers.some((c) => c.name === 'inventory-catalog-sync'));
  });

  test('accepts a valid consumer and an empty list', () => {
    assert.deepEqual(parseConsumers({ consumers: [consumer] }), [consumer]);
    assert.deepEqual(parseConsumers({ consumers: [] }), []);
  });

  const rejects: [string, unknown, RegExp][] = [
    ['no consumers key', {}, /expected \{"consumers"/],
    ['bad name', { consumers: [{ ...consumer, name: 'Bad Name' }] }, /consumers\[0\]\.name/],
    ['bad service', { consumers: [{ ...consumer, service: '../etc' }] }, /consumers\[0\]\.service/],
    ['missing binary', { consumers: [{ ...consumer, binary: undefined }] }, /consumers\[0\]\.binary/],
    ['no detail types', { consumers: [{ ...consumer, detailTypes: [] }] }, /consumers\[0\]\.detailTypes must be a non-empty list/],
    ['unversioned detail type', { consumers: [{ ...consumer, detailTypes: ['product.created'] }] }, /detailTypes\[0\]/],
    ['duplicate detail type', { consumers: [{ ...consumer, detailTypes: ['a.b.v1', 'a.b.v1'] }] }, /duplicates/],
    ['duplicate consumer', { consumers: [consumer, consumer] }, /consumers\[1\]: duplicate consumer/],
    ['unknown field', { consumers: [{ ...consumer, queue: 'x' }] }, /unknown fields queue/],
  ];
  for (const [name, json, message] of rejects) {
    test(`rejects ${name}`, () => {
      assert.throws(() => parseConsumers(json), message);
    });
  }
});
