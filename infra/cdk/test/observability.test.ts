// Saved Logs Insights queries (queries.ts) and the dashboard's business rows
// (monitoring.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CHECKOUT_TASKS } from '../lib/checkout';
import { loadConsumers, loadRoutes } from '../lib/config';
import { ENVIRONMENTS } from '../lib/environments';
import { MAX_RECEIVE_COUNT } from '../lib/events';
import { CORRELATION_ID_PLACEHOLDER, MAX_QUERY_LOG_GROUPS, ORDER_SERVICES, parseField } from '../lib/queries';
import { functionsOfKind, ofType, refOf, synth, tagOf } from './synth';

const routes = loadRoutes();
const consumers = loadConsumers();
const real = synth();
const { resources, rootResources } = real;
const prefix = ENVIRONMENTS.dev.stackName;

const queries = Object.fromEntries(
  ofType(resources, 'AWS::Logs::QueryDefinition').map(([, q]) => [q.Properties!.Name as string, q.Properties!]),
);
/** The logical id a root reference names, following a nested stack's output to its resource. */
function resolveId(ref: unknown): string | undefined {
  const getAtt = (ref as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
  if (getAtt && getAtt[1].startsWith('Outputs.')) {
    const nested = [...real.nested, real.checkout].find((n) => n.logicalId === getAtt[0]);
    assert.ok(nested, `nested stack ${getAtt[0]}`);
    return refOf(nested.template.toJSON().Outputs[getAtt[1].slice('Outputs.'.length)].Value);
  }
  return refOf(ref);
}

/** The function (`amazon-lite:function` tag) whose log group a log group reference names. */
function functionOfLogGroup(ref: unknown): string | undefined {
  const id = resolveId(ref);
  const fn = ofType(resources, 'AWS::Lambda::Function').find(([, f]) => refOf(f.Properties!.LoggingConfig?.LogGroup) === id);
  return fn ? tagOf(fn[1], 'amazon-lite:function') : undefined;
}

/** Logs Insights `parse @message /regex/` applied to a line (JavaScript regexes read the same). */
function parsed(statement: string, line: string): Record<string, string> | undefined {
  const m = statement.match(/^@message \/(.*)\/$/);
  assert.ok(m, statement);
  const groups = new RegExp(m[1]).exec(line)?.groups;
  return groups ? { ...groups } : undefined;
}

describe('saved Logs Insights queries', () => {
  test('three, in the environment\'s folder', () => {
    assert.deepEqual(Object.keys(queries).sort(), [
      `${prefix}/5xx by route`,
      `${prefix}/Dead letters by consumer`,
      `${prefix}/One order's story by correlation id`,
    ]);
  });

  test("one order's story reads the order's services, every consumer, the relay and the saga", () => {
    const q = queries[`${prefix}/One order's story by correlation id`];
    assert.ok(q.LogGroupNames.length <= MAX_QUERY_LOG_GROUPS);
    const fns = q.LogGroupNames.map(functionOfLogGroup);
    const expected = [
      ...routes.filter((r) => (ORDER_SERVICES as readonly string[]).includes(r.service)).map((r) => r.function),
      ...consumers.map((c) => c.name),
      'events-relay',
      ...functionsOfKind(resources, 'task').map(([, f]) => tagOf(f, 'amazon-lite:function')),
      ...functionsOfKind(resources, 'scheduled').map(([, f]) => tagOf(f, 'amazon-lite:function')),
    ];
    assert.equal(functionsOfKind(resources, 'task').length, CHECKOUT_TASKS.length);
    assert.deepEqual([...fns].sort(), [...expected].sort());
    assert.ok(fns.includes('orders-place') && fns.includes('checkout-start') && fns.includes('payments-webhook'));
    assert.match(q.QueryString, new RegExp(`filter @message like "${CORRELATION_ID_PLACEHOLDER}"`));
    assert.match(q.QueryString, /sort @timestamp asc/);
  });

  test('5xx by route reads the API access log by routeKey and status', () => {
    const q = queries[`${prefix}/5xx by route`];
    assert.equal(q.LogGroupNames.length, 1);
    const [, stage] = ofType(rootResources, 'AWS::ApiGatewayV2::Stage')[0];
    assert.equal(refOf(q.LogGroupNames[0]), refOf(stage.Properties!.AccessLogSettings.DestinationArn));
    const format = JSON.parse(stage.Properties!.AccessLogSettings.Format);
    for (const field of ['routeKey', 'status', 'integrationError', 'error']) {
      assert.ok(field in format, `the access log has ${field}`);
      assert.ok(q.QueryString.includes(field), `the query reads ${field}`);
    }
    assert.match(q.QueryString, /filter status like \/\^5\//);
  });

  test('dead letters by consumer reads every consumer, failures on the last receive only', () => {
    const q = queries[`${prefix}/Dead letters by consumer`];
    assert.deepEqual(q.LogGroupNames.map(functionOfLogGroup).sort(), consumers.map((c) => c.name).sort());
    const filter = q.QueryString.match(/filter @message like \/(.*)\/\n/)![1];
    const last = new RegExp(filter);
    const line = (n: number) =>
      `{"level":"ERROR","message":"poison event; it goes to the DLQ after its last receive","spans":[{"consumer":"c","messages":1,"name":"consumer"},{"consumer":"c","message_id":"m","receive_count":"${n}","name":"message"}]}`;
    for (let n = 1; n < MAX_RECEIVE_COUNT; n++) assert.doesNotMatch(line(n), last, `receive ${n} is retried`);
    for (const n of [MAX_RECEIVE_COUNT, MAX_RECEIVE_COUNT + 1, 12, 105]) assert.match(line(n), last, `receive ${n} dead-letters`);
    assert.match(q.QueryString, /by consumer, detailType/);
  });

  test('span fields are parsed by name wherever the span sits in the line', () => {
    // An event function's line under the Lambda runtime's own span (shared/events-aws telemetry: the span list).
    const eventLine =
      '{"timestamp":"t","level":"WARN","reason":"x","message":"handling failed; redelivering","spans":[{"requestId":"r","name":"Lambda runtime invoke"},' +
      '{"consumer":"notifications","messages":1,"name":"consumer"},{"consumer":"notifications","message_id":"m-1","receive_count":"2","correlation_id":"c-9","event_id":"e","detail_type":"order.confirmed.v1","name":"message"}]}';
    // An HTTP function's line (shared/http telemetry: the current span).
    const httpLine =
      '{"timestamp":"t","level":"ERROR","code":"internal","status":500,"correlation_id":"c-9","cause":"boom","message":"request failed","span":{"correlation_id":"c-9","aws_request_id":"a","method":"POST","path":"/v1/orders","name":"request"}}';
    assert.deepEqual(parsed(parseField('consumer', 'consumer'), eventLine), { consumer: 'notifications' });
    assert.deepEqual(parsed(parseField('detail_type', 'detailType'), eventLine), { detailType: 'order.confirmed.v1' });
    assert.deepEqual(parsed(parseField('correlation_id', 'correlationId'), eventLine), { correlationId: 'c-9' });
    assert.deepEqual(parsed(parseField('correlation_id', 'correlationId'), httpLine), { correlationId: 'c-9' });
    assert.deepEqual(parsed(parseField('path', 'path'), httpLine), { path: '/v1/orders' });
    // The saved queries use exactly these parse statements.
    const statements = Object.values(queries).flatMap((q) => q.QueryString.split('\n').filter((l: string) => l.startsWith('| parse ')));
    assert.equal(statements.length, 6);
    for (const st of statements) assert.match(st, /^\| parse @message \/"[a-z_]+":"\(\?<[A-Za-z]+>\[\^"\]\*\)"\/$/);
  });
});

describe('dashboard: business rows', () => {
  const [, dashboard] = ofType(rootResources, 'AWS::CloudWatch::Dashboard')[0];
  const body = JSON.stringify(dashboard.Properties!.DashboardBody);
  const ns = ENVIRONMENTS.dev.metricsNamespace;

  test('orders, failures by reason, checkout duration p50/p99, payments, stock-outs, sign-ins, events, DLQs', () => {
    for (const title of [
      'Orders',
      'Orders failed, by reason',
      'Checkout duration (ms)',
      'Payment authorizations',
      'Stock reservations (stock-outs)',
      'Sign-ins',
      'Events published, by type',
      'Events consumed, by consumer and outcome',
      'Dead-letter queues (messages) and oldest PENDING order (s)',
      'Synthetic shopper: success (%)',
      'Route 5xx alarms',
      'Operations alarms',
    ]) {
      assert.ok(body.includes(`\\"title\\":\\"${title}`), title);
    }
    for (const name of ['orders_placed', 'orders_confirmed', 'checkout_duration', 'payment_authorizations', 'stock_reservations', 'orders_pending_oldest_age']) {
      assert.ok(body.includes(name), name);
    }
    assert.ok(body.includes('p50') && body.includes('p99'));
    // Every alarm of the stack shows in some alarm status widget, in the root or read from a nested stack.
    for (const [id] of ofType(rootResources, 'AWS::CloudWatch::Alarm')) assert.ok(body.includes(`{"Fn::GetAtt":["${id}","Arn"]}`), id);
    const handled = body.match(/"Outputs\.[A-Za-z0-9]+Handled5xx[A-Za-z0-9]*Arn"/g) ?? [];
    assert.equal(new Set(handled).size, routes.length, "each route's handled-5xx alarm, read from its nested stack");
    assert.ok(body.includes('out_of_stock') && body.includes('declined'));
    // Series with open-ended labels come from SEARCH over the metric's whole dimension set.
    for (const [name, labels] of [
      ['orders_failed', 'service,reason'],
      ['logins', 'service,method,outcome'],
      ['events_published', 'service,type'],
      ['events_consumed', 'service,consumer,outcome'],
    ]) {
      assert.ok(body.includes(`SEARCH('{${ns},${labels}} MetricName=\\\\\\"${name}\\\\\\"'`), name);
    }
  });
});
