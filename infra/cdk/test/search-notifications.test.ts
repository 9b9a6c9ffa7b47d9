// Search (OpenSearch Serverless collection, its three policies, who may read
// and write), notifications (the SES sender parameter, ses:SendEmail on the
// consumer only), reviews, and the three new consumers (search-indexer,
// catalog-rating, notifications). Checked on the new services' routes as
// the Rust route tables declare them (functions/{search,reviews,notifications}
// src/routes.rs) with the real consumers.json, and on the real
// infra/routes.json + consumers.json.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ConsumerSpec, type RouteSpec, loadConsumers, loadRoutes } from '../lib/config';
import { MAX_RECEIVE_COUNT } from '../lib/events';
import {
  FROM_ADDRESS_PARAMETER,
  NOTIFICATIONS_CONSUMER,
  NOTIFICATIONS_FROM_ENV,
  NOTIFICATIONS_SERVICE,
} from '../lib/notifications';
import {
  COLLECTION_NAME,
  DEFAULT_SEARCH_INDEX,
  OPENSEARCH_ENDPOINT_ENV,
  OPENSEARCH_INDEX_ENV,
  SEARCH_CURSOR_FUNCTIONS,
  SEARCH_INDEXER_CONSUMER,
  SEARCH_READ_PERMISSIONS,
  SEARCH_WRITE_PERMISSIONS,
  checkCollectionName,
  searchCollectionName,
} from '../lib/search';
import { READ_ITEM_ACTIONS, WRITE_ITEM_ACTIONS } from '../lib/table-access';
import { type CfnResource, type Synthesized, actionsOf, ofType, refOf, roleStatements, synth, tagOf } from './synth';

const route = (method: RouteSpec['method'], p: string, fn: string, service: string, auth: RouteSpec['auth'], table: RouteSpec['table']): RouteSpec => ({
  method,
  path: p,
  function: fn,
  service,
  auth,
  table,
});

/** The new services' routes as the Rust route tables declare them. */
const NEW_ROUTES: RouteSpec[] = [
  route('GET', '/v1/search', 'search-query', 'search', 'public', 'read'),
  route('GET', '/v1/search/suggest', 'search-suggest', 'search', 'public', 'none'),
  route('GET', '/v1/products/{id}/reviews', 'reviews-list', 'reviews', 'public', 'read'),
  route('POST', '/v1/products/{id}/reviews', 'reviews-create', 'reviews', 'bearer', 'readWrite'),
  route('PATCH', '/v1/reviews/{id}', 'reviews-update', 'reviews', 'bearer', 'readWrite'),
  route('DELETE', '/v1/reviews/{id}', 'reviews-delete', 'reviews', 'bearer', 'readWrite'),
  route('GET', '/v1/admin/reviews', 'reviews-admin-list', 'reviews', 'admin', 'read'),
  route('POST', '/v1/admin/reviews/{id}/approve', 'reviews-approve', 'reviews', 'admin', 'readWrite'),
  route('POST', '/v1/admin/reviews/{id}/reject', 'reviews-reject', 'reviews', 'admin', 'readWrite'),
  route('GET', '/v1/me/notifications', 'notifications-list', 'notifications', 'bearer', 'read'),
];
const NEW_CONSUMERS = [SEARCH_INDEXER_CONSUMER, 'catalog-rating', NOTIFICATIONS_CONSUMER];
const SEARCH_ROUTE_FUNCTIONS = ['search-query', 'search-suggest'];
/** Every function that may reach the collection. */
const SEARCH_FUNCTIONS = [...SEARCH_ROUTE_FUNCTIONS, SEARCH_INDEXER_CONSUMER];

const realRoutes = loadRoutes();
const realConsumers = loadConsumers();
const synthetic = synth({ routes: NEW_ROUTES, consumers: realConsumers });
const real = synth();

type Res = Record<string, CfnResource>;

function fnNamed(res: Res, name: string): [string, CfnResource] {
  const found = ofType(res, 'AWS::Lambda::Function').filter(([, f]) => tagOf(f, 'amazon-lite:function') === name);
  assert.equal(found.length, 1, `one function ${name}`);
  return found[0];
}
const envOf = (f: CfnResource): Record<string, unknown> => f.Properties!.Environment?.Variables ?? {};
const statementsOf = (res: Res, name: string): any[] => roleStatements(res, fnNamed(res, name)[0]);
const allFunctionNames = (res: Res): string[] =>
  ofType(res, 'AWS::Lambda::Function').flatMap(([, f]) => {
    const n = tagOf(f, 'amazon-lite:function');
    return n ? [n] : [];
  });

/**
 * A nested stack's output read through the root: `{Fn::GetAtt: [<nested
 * stack>, "Outputs.<name>"]}` becomes the output's value in the nested
 * template; anything else is returned as is.
 */
function throughOutputs(s: Synthesized, value: any): any {
  const getAtt = value?.['Fn::GetAtt'];
  if (!Array.isArray(getAtt) || typeof getAtt[1] !== 'string' || !getAtt[1].startsWith('Outputs.')) return value;
  const nested = [...s.nested, s.checkout].find((n) => n.logicalId === getAtt[0]);
  assert.ok(nested, `nested stack ${getAtt[0]}`);
  return nested.template.toJSON().Outputs[getAtt[1].slice('Outputs.'.length)].Value;
}

/** A policy document given as a string or an Fn::Join, with every reference replaced by `@@<logical id>@@`. */
function parsePolicy(s: Synthesized, value: unknown): any {
  if (typeof value === 'string') return JSON.parse(value);
  const join = (value as any)['Fn::Join'];
  assert.ok(Array.isArray(join) && join[0] === '', `policy is a string or an Fn::Join: ${JSON.stringify(value)}`);
  const text = (join[1] as unknown[])
    .map((part) => {
      if (typeof part === 'string') return part;
      const id = refOf(throughOutputs(s, part));
      assert.ok(id, `reference in the policy: ${JSON.stringify(part)}`);
      return `@@${id}@@`;
    })
    .join('');
  return JSON.parse(text);
}

/** `@@<role id>@@` of a function's role. */
const rolePlaceholder = (res: Res, name: string) => `@@${refOf(fnNamed(res, name)[1].Properties!.Role)}@@`;

interface SearchPieces {
  collectionId: string;
  collection: CfnResource;
  name: string;
  encryption: [string, CfnResource];
  network: [string, CfnResource];
  access: [string, CfnResource];
}

function searchPieces(res: Res): SearchPieces {
  const collections = ofType(res, 'AWS::OpenSearchServerless::Collection');
  assert.equal(collections.length, 1, 'one collection');
  const [collectionId, collection] = collections[0];
  const security = ofType(res, 'AWS::OpenSearchServerless::SecurityPolicy');
  const byType = (t: string) => {
    const found = security.filter(([, p]) => p.Properties!.Type === t);
    assert.equal(found.length, 1, `one ${t} policy`);
    return found[0];
  };
  const access = ofType(res, 'AWS::OpenSearchServerless::AccessPolicy');
  assert.equal(access.length, 1, 'one data access policy');
  assert.equal(security.length, 2, 'an encryption and a network policy, nothing else');
  return { collectionId, collection, name: collection.Properties!.Name, encryption: byType('encryption'), network: byType('network'), access: access[0] };
}

/** Everything the search service is promised, on one synthesis. */
function assertSearch(s: Synthesized, expectedName: string): void {
  const res = s.resources;
  const p = searchPieces(res);

  // The collection: SEARCH, a valid name, in the search routes' nested stack.
  assert.equal(p.collection.Properties!.Type, 'SEARCH');
  assert.equal(p.name, expectedName);
  assert.match(p.name, COLLECTION_NAME);
  const searchStack = s.nested.find((n) => n.service === 'search');
  assert.ok(searchStack, 'a search nested stack');
  for (const id of [p.collectionId, p.encryption[0], p.network[0], p.access[0]]) {
    assert.ok(id in searchStack.resources, `${id} is in the search routes' nested stack`);
  }

  // The three policies precede the collection.
  assert.deepEqual([...p.collection.DependsOn].sort(), [p.encryption[0], p.network[0], p.access[0]].sort());

  // Encryption: AWS-owned key, for this collection.
  const rule = { ResourceType: 'collection', Resource: [`collection/${p.name}`] };
  assert.deepEqual(JSON.parse(p.encryption[1].Properties!.Policy), { Rules: [rule], AWSOwnedKey: true });
  // Network: the collection endpoint, public (IAM-authorized), no dashboards.
  const network = JSON.parse(p.network[1].Properties!.Policy);
  assert.equal(network.length, 1);
  assert.deepEqual(network[0].Rules, [rule]);
  assert.equal(network[0].AllowFromPublic, true);
  for (const pol of [p.encryption, p.network, p.access]) assert.match(pol[1].Properties!.Name, COLLECTION_NAME);

  // Data access: the route functions read, the indexer writes, on this collection's indexes only.
  assert.equal(p.access[1].Properties!.Type, 'data');
  const data = parsePolicy(s, p.access[1].Properties!.Policy);
  assert.equal(data.length, 2, 'a read rule set and a write rule set');
  const readers = data.find((d: any) => !d.Rules[0].Permission.includes('aoss:WriteDocument'));
  const writers = data.find((d: any) => d.Rules[0].Permission.includes('aoss:WriteDocument'));
  assert.ok(readers && writers);
  for (const d of data) {
    assert.equal(d.Rules.length, 1);
    assert.equal(d.Rules[0].ResourceType, 'index');
    assert.deepEqual(d.Rules[0].Resource, [`index/${p.name}/*`]);
  }
  assert.deepEqual([...readers.Rules[0].Permission].sort(), [...SEARCH_READ_PERMISSIONS].sort());
  assert.deepEqual([...writers.Rules[0].Permission].sort(), [...SEARCH_WRITE_PERMISSIONS].sort());
  assert.deepEqual(
    [...readers.Principal].sort(),
    SEARCH_ROUTE_FUNCTIONS.map((f) => rolePlaceholder(res, f)).sort(),
    'exactly the search route functions read',
  );
  assert.deepEqual(writers.Principal, [rolePlaceholder(res, SEARCH_INDEXER_CONSUMER)], 'exactly the indexer writes');
  // Least privilege: readers may not write or create.
  for (const w of ['aoss:WriteDocument', 'aoss:CreateIndex', 'aoss:UpdateIndex', 'aoss:DeleteIndex']) {
    assert.ok(!readers.Rules[0].Permission.includes(w), `readers lack ${w}`);
  }

  // Variables: the endpoint and the index, on the search functions and the indexer only.
  for (const name of SEARCH_FUNCTIONS) {
    const env = envOf(fnNamed(res, name)[1]);
    assert.deepEqual(throughOutputs(s, env[OPENSEARCH_ENDPOINT_ENV]), { 'Fn::GetAtt': [p.collectionId, 'CollectionEndpoint'] }, name);
    assert.equal(env[OPENSEARCH_INDEX_ENV], DEFAULT_SEARCH_INDEX, name);
  }
  for (const name of allFunctionNames(res).filter((n) => !SEARCH_FUNCTIONS.includes(n))) {
    const env = envOf(fnNamed(res, name)[1]);
    assert.equal(env[OPENSEARCH_ENDPOINT_ENV], undefined, name);
    assert.equal(env[OPENSEARCH_INDEX_ENV], undefined, name);
  }

  // IAM: aoss:APIAccessAll on this collection, for those three roles and no other.
  for (const name of allFunctionNames(res)) {
    const aoss = statementsOf(res, name).filter((st) => actionsOf(st).some((a: string) => a.startsWith('aoss:')));
    if (SEARCH_FUNCTIONS.includes(name)) {
      assert.equal(aoss.length, 1, `${name}: one aoss statement`);
      assert.deepEqual(actionsOf(aoss[0]), ['aoss:APIAccessAll'], name);
      assert.deepEqual(throughOutputs(s, aoss[0].Resource), { 'Fn::GetAtt': [p.collectionId, 'Arn'] }, `${name}: the collection's ARN`);
    } else {
      assert.deepEqual(aoss, [], `${name} has no OpenSearch access`);
    }
  }

  // The search routes are public; search-query reads the catalog listing
  // when the engine is down (read only), suggest uses no table.
  // search-query signs cursors (the cursor key), suggest does not.
  const cursorKey = ofType(res, 'AWS::SecretsManager::Secret').find(([id]) => id.startsWith('CursorKey'))![0];
  for (const name of SEARCH_ROUTE_FUNCTIONS) {
    const st = statementsOf(res, name);
    const dynamo = [...new Set(st.flatMap(actionsOf).filter((a: string) => a.startsWith('dynamodb:')))].sort();
    const expected = name === 'search-query' ? [...READ_ITEM_ACTIONS].sort() : [];
    assert.deepEqual(dynamo, expected, `${name}: DynamoDB actions`);
    const secrets = st.filter((x) => actionsOf(x).includes('secretsmanager:GetSecretValue')).map((x) => refOf(x.Resource));
    assert.deepEqual(secrets, (SEARCH_CURSOR_FUNCTIONS as readonly string[]).includes(name) ? [cursorKey] : [], `${name}: secrets`);
  }

  // The endpoint is an output of the root.
  assert.deepEqual(throughOutputs(s, s.template.toJSON().Outputs.SearchCollectionEndpoint.Value), {
    'Fn::GetAtt': [p.collectionId, 'CollectionEndpoint'],
  });
}

/** The SES sender: a parameter; the notifications consumer alone may send, from that address. */
function assertNotifications(s: Synthesized): void {
  const res = s.resources;
  const param = s.template.toJSON().Parameters[FROM_ADDRESS_PARAMETER];
  assert.ok(param, `parameter ${FROM_ADDRESS_PARAMETER}`);
  assert.equal(param.Type, 'String');
  assert.ok(param.AllowedPattern);
  const [, consumer] = fnNamed(res, NOTIFICATIONS_CONSUMER);
  assert.deepEqual(envOf(consumer)[NOTIFICATIONS_FROM_ENV], { Ref: FROM_ADDRESS_PARAMETER });

  const send = statementsOf(res, NOTIFICATIONS_CONSUMER).filter((st) => actionsOf(st).some((a: string) => a.startsWith('ses:')));
  assert.equal(send.length, 1);
  assert.deepEqual(actionsOf(send[0]), ['ses:SendEmail']);
  assert.deepEqual(send[0].Condition, { StringEquals: { 'ses:FromAddress': { Ref: FROM_ADDRESS_PARAMETER } } });
  const resources = JSON.stringify(send[0].Resource);
  assert.ok(Array.isArray(send[0].Resource) && send[0].Resource.length === 2, 'the address identity and its domain identity');
  assert.ok(!resources.includes('"*"') && !/identity\/\*/.test(resources), `no wildcard: ${resources}`);
  assert.equal((resources.match(/:identity\//g) ?? []).length, 2, resources);
  assert.ok(resources.includes('"Fn::Split":["@",{"Ref":"NotificationsFromAddress"}]'), 'the domain of the address');

  // Every function of the notifications binary gets the sender (the binary
  // builds its notifier at init); no other function does.
  const notificationsBinary = allFunctionNames(res).filter(
    (n) => tagOf(fnNamed(res, n)[1], 'amazon-lite:service') === NOTIFICATIONS_SERVICE,
  );
  assert.ok(notificationsBinary.includes('notifications-list') && notificationsBinary.includes(NOTIFICATIONS_CONSUMER), notificationsBinary.join(', '));
  for (const name of allFunctionNames(res).filter((n) => n !== NOTIFICATIONS_CONSUMER)) {
    const fn = fnNamed(res, name)[1];
    const expected = notificationsBinary.includes(name) ? { Ref: FROM_ADDRESS_PARAMETER } : undefined;
    assert.deepEqual(envOf(fn)[NOTIFICATIONS_FROM_ENV], expected, name);
    assert.ok(!statementsOf(res, name).flatMap(actionsOf).some((a: string) => a.startsWith('ses:')), `${name} may not send e-mail`);
  }
}

/** Each of the three new consumers: rule → queue → DLQ (alarmed) → function with the table. */
function assertNewConsumers(s: Synthesized, consumers: readonly ConsumerSpec[]): void {
  const res = s.resources;
  const topicId = ofType(res, 'AWS::SNS::Topic')[0][0];
  const tableId = ofType(res, 'AWS::DynamoDB::Table')[0][0];
  for (const name of NEW_CONSUMERS) {
    const spec = consumers.find((c) => c.name === name);
    assert.ok(spec, `consumers.json lists ${name}`);
    const [fnId, fn] = fnNamed(res, name);
    assert.equal(tagOf(fn, 'amazon-lite:kind'), 'consumer');
    assert.equal(tagOf(fn, 'amazon-lite:service'), spec.service);
    assert.ok(fnId in s.rootResources, `${name} is in the root (events backbone)`);
    const mappings = ofType(res, 'AWS::Lambda::EventSourceMapping').filter(([, m]) => refOf(m.Properties!.FunctionName) === fnId);
    assert.equal(mappings.length, 1, `${name}: one event source`);
    assert.deepEqual(mappings[0][1].Properties!.FunctionResponseTypes, ['ReportBatchItemFailures']);
    const queueId = refOf(mappings[0][1].Properties!.EventSourceArn)!;
    const redrive = res[queueId].Properties!.RedrivePolicy;
    assert.equal(redrive.maxReceiveCount, MAX_RECEIVE_COUNT);
    const dlqId = refOf(redrive.deadLetterTargetArn)!;
    assert.equal(res[dlqId].Type, 'AWS::SQS::Queue');
    const alarms = ofType(res, 'AWS::CloudWatch::Alarm').filter(
      ([, a]) =>
        a.Properties!.MetricName === 'ApproximateNumberOfMessagesVisible' &&
        a.Properties!.Dimensions.some((d: any) => d.Name === 'QueueName' && refOf(d.Value) === dlqId),
    );
    assert.equal(alarms.length, 1, `${name}: DLQ alarm`);
    assert.deepEqual(alarms[0][1].Properties!.AlarmActions, [{ Ref: topicId }]);
    const rules = ofType(res, 'AWS::Events::Rule').filter(([, r]) => (r.Properties!.Targets ?? []).some((t: any) => refOf(t.Arn) === queueId));
    assert.equal(rules.length, 1);
    assert.deepEqual(rules[0][1].Properties!.EventPattern, { 'detail-type': spec.detailTypes });

    // Table read/write on the items (idempotency records; catalog-rating updates the product and writes an outbox item; search-indexer writes and reads deleted products' tombstones), never Scan.
    const dynamo = statementsOf(res, name).filter((st) => actionsOf(st).some((a: string) => a.startsWith('dynamodb:')));
    const onTable = dynamo.filter((st) => refOf(st.Resource) === tableId).flatMap(actionsOf);
    assert.deepEqual([...new Set(onTable)].sort(), [...READ_ITEM_ACTIONS, ...WRITE_ITEM_ACTIONS].sort(), name);
    assert.ok(!dynamo.flatMap(actionsOf).includes('dynamodb:Scan'));
    assert.equal(refOf(envOf(fn).TABLE_NAME), tableId);
  }
  // catalog-rating gets the table and nothing else.
  const rating = statementsOf(res, 'catalog-rating').flatMap(actionsOf);
  assert.ok(rating.every((a: string) => /^(dynamodb|sqs|xray):/.test(a)), `catalog-rating: ${rating.join(', ')}`);
}

/** Reviews and notifications route functions: table access per their RouteSpec, nothing of search or SES. */
function assertNewRoutes(s: Synthesized, routes: readonly RouteSpec[]): void {
  const res = s.resources;
  for (const r of routes.filter((x) => x.service === 'reviews' || x.service === 'notifications')) {
    const st = statementsOf(res, r.function);
    const actions = st.flatMap(actionsOf);
    const dynamo = [...new Set(actions.filter((a: string) => a.startsWith('dynamodb:')))].sort();
    const expected = r.table === 'readWrite' ? [...READ_ITEM_ACTIONS, ...WRITE_ITEM_ACTIONS] : r.table === 'read' ? [...READ_ITEM_ACTIONS] : [];
    assert.deepEqual(dynamo, expected.sort(), `${r.function} (${r.table})`);
    assert.ok(!actions.some((a: string) => /^(aoss|ses|states|events):/.test(a)), `${r.function}: ${actions.join(', ')}`);
    const nested = s.nested.find((n) => n.service === r.service);
    assert.ok(nested && fnNamed(nested.resources, r.function), `${r.function} is in the ${r.service} nested stack`);
  }
}

describe('search, reviews, notifications (the routes as the Rust route tables declare them)', () => {
  test('search: collection, policies before it, who reads and who writes, variables, IAM', () => {
    assertSearch(synthetic, 'amazonlitestack-search');
  });

  test('notifications: the sender parameter, ses:SendEmail for the consumer only', () => {
    assertNotifications(synthetic);
    // No default unless configured: a deploy must pass it.
    assert.equal(synthetic.template.toJSON().Parameters[FROM_ADDRESS_PARAMETER].Default, undefined);
  });

  test('search-indexer, catalog-rating, notifications: queue, DLQ and its alarm, rule, table access', () => {
    assertNewConsumers(synthetic, realConsumers);
  });

  test('reviews and notifications route functions: table access per route, no search, no SES', () => {
    assertNewRoutes(synthetic, NEW_ROUTES);
  });
});

describe('search collection name', () => {
  test('derived from the stack name: lower case, 3 to 32 characters', () => {
    assert.equal(searchCollectionName('amazon-lite'), 'amazon-lite-search');
    assert.equal(searchCollectionName('AmazonLiteStack'), 'amazonlitestack-search');
    assert.equal(searchCollectionName('Amazon_Lite.Prod--EU'), 'amazon-lite-prod-eu-search');
    assert.equal(searchCollectionName('1-stack'), 'stack-search');
    assert.equal(searchCollectionName('--'), 'amazon-lite-search');
    const a = searchCollectionName('amazon-lite-production-eu-west-1-blue');
    const b = searchCollectionName('amazon-lite-production-eu-west-1-green');
    for (const n of [a, b]) {
      assert.match(n, COLLECTION_NAME);
      assert.ok(n.length <= 32, n);
    }
    assert.notEqual(a, b, 'long names that share a prefix differ');
    assert.match(searchCollectionName('x'.repeat(128)), COLLECTION_NAME);
  });

  test('an explicit name is validated', () => {
    for (const bad of ['ab', 'Search', '1search', 'a'.repeat(33), 'my_search']) {
      assert.throws(() => checkCollectionName(bad), /searchCollectionName/, bad);
    }
    assert.throws(() => synth({ routes: NEW_ROUTES, consumers: realConsumers, searchCollectionName: 'My_Search' }), /searchCollectionName/);
    assert.throws(() => synth({ routes: NEW_ROUTES, consumers: realConsumers, searchIndexName: 'a/*' }), /searchIndexName/);
  });

  test('an explicit name and index are used by the collection, the policies and the variables', () => {
    const s = synth({ routes: NEW_ROUTES, consumers: realConsumers, searchCollectionName: 'shop-search', searchIndexName: 'items' });
    const p = searchPieces(s.resources);
    assert.equal(p.name, 'shop-search');
    assert.deepEqual(JSON.parse(p.encryption[1].Properties!.Policy).Rules[0].Resource, ['collection/shop-search']);
    assert.deepEqual(parsePolicy(s, p.access[1].Properties!.Policy)[0].Rules[0].Resource, ['index/shop-search/*']);
    for (const name of SEARCH_FUNCTIONS) assert.equal(envOf(fnNamed(s.resources, name)[1])[OPENSEARCH_INDEX_ENV], 'items');
  });
});

describe('search and notifications: other shapes', () => {
  test('without search routes the collection is in the root and only the indexer may use it', () => {
    const s = synth({ routes: NEW_ROUTES.filter((r) => r.service !== 'search'), consumers: realConsumers });
    const p = searchPieces(s.resources);
    assert.ok(p.collectionId in s.rootResources);
    assert.deepEqual([...p.collection.DependsOn].sort(), [p.encryption[0], p.network[0], p.access[0]].sort());
    const data = parsePolicy(s, p.access[1].Properties!.Policy);
    assert.equal(data.length, 1);
    assert.deepEqual(data[0].Principal, [rolePlaceholder(s.resources, SEARCH_INDEXER_CONSUMER)]);
  });

  test('no search function and no notifications consumer: no collection, no parameter', () => {
    const s = synth({ routes: NEW_ROUTES.filter((r) => r.service === 'reviews'), consumers: [] });
    assert.equal(ofType(s.resources, 'AWS::OpenSearchServerless::Collection').length, 0);
    assert.equal(ofType(s.resources, 'AWS::OpenSearchServerless::SecurityPolicy').length, 0);
    assert.equal(s.template.toJSON().Parameters?.[FROM_ADDRESS_PARAMETER], undefined);
    assert.equal(s.template.toJSON().Outputs.SearchCollectionEndpoint, undefined);
  });

  test('notificationsFromAddress becomes the parameter default; a bad address fails the synth', () => {
    const s = synth({ routes: NEW_ROUTES, consumers: realConsumers, notificationsFromAddress: 'no-reply@shop.example.com' });
    assert.equal(s.template.toJSON().Parameters[FROM_ADDRESS_PARAMETER].Default, 'no-reply@shop.example.com');
    assert.match('no-reply@shop.example.com', new RegExp(s.template.toJSON().Parameters[FROM_ADDRESS_PARAMETER].AllowedPattern));
    for (const bad of ['no-reply', 'Shop <no-reply@example.com>', 'a@b']) {
      assert.throws(() => synth({ routes: NEW_ROUTES, consumers: realConsumers, notificationsFromAddress: bad }), /notificationsFromAddress/, bad);
    }
  });

  test('a search or notifications consumer without wiring fails the synth', () => {
    const extra = (c: Partial<ConsumerSpec>) => [...realConsumers, { name: 'x', service: 'x', binary: 'x', detailTypes: ['a.b.v1'], ...c }];
    assert.throws(() => synth({ routes: NEW_ROUTES, consumers: extra({ name: 'search-other', service: 'search' }) }), /search consumer search-other/);
    assert.throws(
      () => synth({ routes: NEW_ROUTES, consumers: extra({ name: 'notifications-other', service: 'notifications' }) }),
      /notifications consumer notifications-other/,
    );
  });
});

describe('search, reviews, notifications on the real infra/routes.json and consumers.json', () => {
  test('routes.json has the search, reviews and notifications routes the Rust tables declare', () => {
    for (const r of NEW_ROUTES) {
      const found = realRoutes.find((x) => x.function === r.function);
      assert.ok(found, `routes.json has ${r.function}`);
      assert.deepEqual(found, r);
    }
  });

  test('search', () => {
    assertSearch(real, 'amazonlitestack-search');
  });

  test('notifications', () => {
    assertNotifications(real);
  });

  test('the new consumers', () => {
    assertNewConsumers(real, realConsumers);
  });

  test('reviews and notifications route functions', () => {
    assertNewRoutes(real, realRoutes);
  });
});
