// The operations alarms (alarms.ts): handled 5xx per route wired into its
// canary deployment, consumer failures and queue age, account headroom, the
// business flow, the managed services; the metrics namespace on every
// function; every alarm on the services' metrics names exactly the metric's
// labels (infra/metrics.json).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { parseAlarmEmails } from '../lib/alarm-topic';
import { CHECKOUT_TASKS } from '../lib/checkout';
import { REPO_ROOT, loadConsumers, loadRoutes } from '../lib/config';
import { ENVIRONMENTS } from '../lib/environments';
import { DEFAULT_CHECKOUT_PAYMENT_TIMEOUT_SECONDS } from '../lib/payments';
import { METRICS_NAMESPACE_ENV, MetricCatalog, loadMetricCatalog } from '../lib/metric-catalog';
import { type CfnResource, functionsOfKind, ofType, refOf, synth, tagOf } from './synth';

const routes = loadRoutes();
const consumers = loadConsumers();
const env = ENVIRONMENTS.dev;
const t = env.alarms;
const real = synth();
const { resources } = real;
const catalog = loadMetricCatalog();

type Alarm = { id: string; p: Record<string, any> };
const alarms: Alarm[] = ofType(resources, 'AWS::CloudWatch::Alarm').map(([id, a]) => ({ id, p: a.Properties! }));
const topicId = ofType(resources, 'AWS::SNS::Topic')[0][0];

/** The metrics an alarm reads: its single metric or every MetricStat of its Metrics. */
function metricsOf(a: Alarm): { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: unknown }[] }[] {
  if (a.p.MetricName) return [{ Namespace: a.p.Namespace, MetricName: a.p.MetricName, Dimensions: a.p.Dimensions ?? [] }];
  return (a.p.Metrics ?? []).filter((m: any) => m.MetricStat).map((m: any) => ({ ...m.MetricStat.Metric, Dimensions: m.MetricStat.Metric.Dimensions ?? [] }));
}
const dims = (m: { Dimensions: { Name: string; Value: unknown }[] }) => Object.fromEntries(m.Dimensions.map((d) => [d.Name, d.Value]));
const reading = (name: string) => alarms.filter((a) => metricsOf(a).some((m) => m.MetricName === name && m.Namespace === env.metricsNamespace));

describe('the metric catalog (infra/metrics.json)', () => {
  const c = new MetricCatalog('AmazonLite/test', catalog);

  test('a metric gets exactly its labels as dimensions, in its namespace', () => {
    const m = c.metric('orders_failed', { service: 'orders', reason: 'checkout_error' });
    assert.equal(m.namespace, 'AmazonLite/test');
    assert.deepEqual(m.dimensions, { service: 'orders', reason: 'checkout_error' });
    assert.equal(m.statistic, 'Sum', 'counters sum');
    assert.equal(c.metric('orders_pending_oldest_age', { service: 'orders' }).statistic, 'Maximum', 'gauges take the maximum');
  });

  test('a missing label, an extra label or an unknown name fails the synth', () => {
    assert.throws(() => c.metric('orders_failed', { service: 'orders' }), /labels service differ from its dimension set reason, service/);
    assert.throws(() => c.metric('orders_placed', { service: 'orders', route: '/v1/orders' }), /differ/);
    assert.throws(() => c.metric('orders_lost', { service: 'orders' }), /not in infra\/metrics.json/);
  });

  test('every alarm on a service metric names exactly that metric\'s labels', () => {
    let checked = 0;
    for (const a of alarms) {
      for (const m of metricsOf(a).filter((m) => m.Namespace === env.metricsNamespace)) {
        const spec = catalog.get(m.MetricName);
        assert.ok(spec, `${a.id}: ${m.MetricName} is in the catalog`);
        assert.deepEqual(Object.keys(dims(m)).sort(), [...spec.labels].sort(), `${a.id}: ${m.MetricName}`);
        checked++;
      }
    }
    assert.ok(checked >= routes.length + consumers.length + 5, `${checked} service metrics under alarm`);
  });
});

describe('metrics namespace', () => {
  test(`every Rust function has ${METRICS_NAMESPACE_ENV}=${env.metricsNamespace}`, () => {
    const fns = ofType(resources, 'AWS::Lambda::Function').filter(([, f]) => f.Properties!.Runtime === 'provided.al2023');
    assert.equal(fns.length, routes.length + consumers.length + 1 + CHECKOUT_TASKS.length + 1);
    for (const [id, f] of fns) assert.equal(f.Properties!.Environment.Variables[METRICS_NAMESPACE_ENV], env.metricsNamespace, id);
  });
});

describe('handled 5xx per route', () => {
  const route5xx = reading('http_requests');

  test('one alarm per route on http_requests{service,route,method,status_class=5xx}, per minute', () => {
    assert.equal(route5xx.length, routes.length);
    const keys = new Set(
      route5xx.map((a) => {
        const d = dims(metricsOf(a)[0]);
        assert.equal(d.status_class, '5xx', a.id);
        assert.equal(a.p.Period, 60);
        assert.equal(a.p.Statistic, 'Sum');
        assert.equal(a.p.Threshold, t.route5xxPerMinute);
        assert.equal(a.p.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
        assert.equal(a.p.TreatMissingData, 'notBreaching');
        return `${d.service} ${d.method} ${d.route}`;
      }),
    );
    assert.deepEqual([...keys].sort(), routes.map((r) => `${r.service} ${r.method} ${r.path}`).sort());
  });

  test("each is a rollback alarm of its route's deployment group, beside the errors alarm", () => {
    const groups = ofType(resources, 'AWS::CodeDeploy::DeploymentGroup');
    assert.equal(groups.length, routes.length);
    for (const [gid, g] of groups) {
      const ids = g.Properties!.AlarmConfiguration.Alarms.map((x: { Name: unknown }) => refOf(x.Name)!);
      assert.equal(ids.length, 2, gid);
      const [errors, handled] = ids.map((id: string) => resources[id].Properties!);
      assert.equal(errors.MetricName, 'Errors');
      assert.equal(handled.MetricName, 'http_requests');
      // Both watch the same route: the function of the errors alarm serves the path of the 5xx alarm.
      const fnId = refOf(errors.Dimensions.find((d: any) => d.Name === 'FunctionName').Value)!;
      const route = tagOf(resources[fnId], 'amazon-lite:function');
      const r = routes.find((x) => x.function === route)!;
      assert.equal(dims({ Dimensions: handled.Dimensions }).route, r.path, `${route}'s group rolls back on its own 5xx`);
      assert.ok(g.Properties!.AutoRollbackConfiguration.Events.includes('DEPLOYMENT_STOP_ON_ALARM'));
    }
  });
});

describe('consumers', () => {
  test('failed deliveries: function errors + events_consumed{outcome=retried}, per consumer', () => {
    const errs = reading('events_consumed');
    assert.equal(errs.length, consumers.length);
    for (const c of consumers) {
      const a = errs.find((x) => metricsOf(x).some((m) => dims(m).consumer === c.name))!;
      assert.ok(a, c.name);
      assert.match(a.p.Metrics.find((m: any) => m.Expression).Expression, /FILL\(errors, 0\) \+ FILL\(retried, 0\)/);
      const retried = metricsOf(a).find((m) => m.MetricName === 'events_consumed')!;
      assert.deepEqual(dims(retried), { service: c.service, consumer: c.name, outcome: 'retried' });
      const lambdaErrors = metricsOf(a).find((m) => m.Namespace === 'AWS/Lambda')!;
      const fnId = refOf(dims(lambdaErrors).FunctionName)!;
      assert.equal(tagOf(resources[fnId], 'amazon-lite:consumer'), c.name);
      assert.equal(a.p.Threshold, t.consumerErrorsPer5Minutes);
    }
  });

  test("the age of each consumer queue's oldest message (not the DLQs')", () => {
    const age = alarms.filter((a) => a.p.MetricName === 'ApproximateAgeOfOldestMessage');
    assert.equal(age.length, consumers.length);
    const queues = new Set(age.map((a) => refOf(dims(metricsOf(a)[0]).QueueName)));
    const consumerQueues = functionsOfKind(resources, 'consumer').map(([id]) => {
      const mapping = ofType(resources, 'AWS::Lambda::EventSourceMapping').find(([, m]) => refOf(m.Properties!.FunctionName) === id)!;
      return refOf(mapping[1].Properties!.EventSourceArn);
    });
    assert.deepEqual([...queues].sort(), consumerQueues.sort());
    for (const a of age) assert.equal(a.p.Threshold, t.queueOldestMessageAgeSeconds);
  });
});

describe('account, business and managed services', () => {
  const one = (pred: (a: Alarm) => boolean, what: string): Alarm => {
    const found = alarms.filter(pred);
    assert.equal(found.length, 1, what);
    return found[0];
  };

  test('Lambda throttles and ConcurrentExecutions, account-wide (no dimensions)', () => {
    const throttles = one((a) => a.p.Namespace === 'AWS/Lambda' && a.p.MetricName === 'Throttles', 'throttles');
    assert.equal(throttles.p.Dimensions, undefined);
    const conc = one((a) => a.p.MetricName === 'ConcurrentExecutions', 'concurrency');
    assert.equal(conc.p.Dimensions, undefined);
    assert.equal(conc.p.Threshold, t.accountConcurrentExecutions);
  });

  test('checkout failure rate: orders_failed{reason=checkout_error} over orders_placed, in percent', () => {
    const a = one((x) => metricsOf(x).some((m) => m.MetricName === 'orders_failed'), 'checkout failure rate');
    const byId = Object.fromEntries(a.p.Metrics.map((m: any) => [m.Id, m]));
    assert.equal(a.p.Metrics.find((m: any) => m.ReturnData !== false).Expression, '100 * FILL(failed, 0) / placed');
    assert.deepEqual(dims(byId.failed.MetricStat.Metric), { service: 'orders', reason: 'checkout_error' });
    assert.equal(byId.placed.MetricStat.Metric.MetricName, 'orders_placed');
    assert.equal(a.p.Threshold, t.checkoutFailurePercent);
  });

  test('payment decline rate: an anomaly detection band, alarming above it', () => {
    const a = one((x) => metricsOf(x).some((m) => m.MetricName === 'payment_authorizations'), 'decline anomaly');
    assert.equal(a.p.ComparisonOperator, 'GreaterThanUpperThreshold');
    const band = a.p.Metrics.find((m: any) => /^ANOMALY_DETECTION_BAND/.test(m.Expression ?? ''));
    assert.equal(band.Expression, `ANOMALY_DETECTION_BAND(m0, ${t.paymentDeclineBandStdDevs})`);
    assert.equal(a.p.ThresholdMetricId, band.Id);
    const outcomes = metricsOf(a).map((m) => dims(m).outcome).sort();
    assert.deepEqual(outcomes, ['authorized', 'declined', 'timed_out']);
  });

  test('stuck orders: the oldest PENDING order beyond the payment timeout + margin', () => {
    const a = one((x) => metricsOf(x).some((m) => m.MetricName === 'orders_pending_oldest_age'), 'stuck orders');
    assert.equal(a.p.Statistic, 'Maximum');
    assert.equal(a.p.Threshold, DEFAULT_CHECKOUT_PAYMENT_TIMEOUT_SECONDS + t.stuckOrderMarginSeconds);
  });

  test('OpenSearch Serverless search and ingestion errors on the collection', () => {
    const aoss = alarms.filter((a) => a.p.Namespace === 'AWS/AOSS');
    assert.deepEqual(aoss.map((a) => a.p.MetricName).sort(), ['IngestionRequestErrors', 'SearchRequestErrors']);
    const [, collection] = ofType(resources, 'AWS::OpenSearchServerless::Collection')[0];
    for (const a of aoss) {
      const d = dims(metricsOf(a)[0]);
      assert.deepEqual(d.ClientId, { Ref: 'AWS::AccountId' });
      assert.equal(d.CollectionName, collection.Properties!.Name);
      assert.ok(d.CollectionId, 'the collection id');
    }
  });

  test('SES bounce rate and rejects', () => {
    const ses = alarms.filter((a) => a.p.Namespace === 'AWS/SES').map((a) => a.p.MetricName).sort();
    assert.deepEqual(ses, ['Reject', 'Reputation.BounceRate']);
  });

  test('every runbook an alarm names exists', () => {
    const named = new Set(alarms.flatMap((a) => [...String(a.p.AlarmDescription ?? '').matchAll(/\(runbook: (docs\/runbooks\/[a-z0-9-]+\.md)\)/g)].map((m) => m[1])));
    assert.deepEqual([...named].sort(), ['docs/runbooks/dlq-redrive.md', 'docs/runbooks/rollback.md', 'docs/runbooks/saga-failures.md', 'docs/runbooks/stuck-orders.md']);
    for (const f of named) assert.ok(fs.existsSync(path.join(REPO_ROOT, f)), f);
  });

  test('every alarm notifies the topic', () => {
    for (const a of alarms) assert.deepEqual(a.p.AlarmActions, [{ Ref: topicId }], a.id);
  });
});

describe('alarm counts', () => {
  test('what existed, plus per route, per consumer and the stack-wide ones', () => {
    const existing = routes.length + (CHECKOUT_TASKS.length + 1) + 4 + 3 + 2 + consumers.length; // errors, saga, API/table, relay, DLQs
    const added =
      routes.length + // handled 5xx
      2 * consumers.length + // failed deliveries, oldest message
      2 + // Lambda throttles, ConcurrentExecutions
      3 + // checkout failure rate, decline anomaly, stuck orders
      2 + // OpenSearch search and ingestion errors
      2 + // SES bounce rate, rejects
      1; // the canary's SuccessPercent
    assert.equal(alarms.length, existing + added);
    assert.equal(real.stack.operationsAlarms.alarms.length, 2 * consumers.length + 2 + 3 + 2 + 2);
  });
});

describe('settings', () => {
  const custom = synth({
    checkoutPaymentTimeoutSeconds: 120,
    alarmThresholds: { route5xxPerMinute: 9, stuckOrderMarginSeconds: 60 },
    alarmEmail: 'a@example.com, b@example.org,a@example.com',
    canary: false,
  });
  const customAlarms = ofType(custom.resources, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties!);

  test("the stuck-order threshold follows the saga's payment timeout", () => {
    const stuck = customAlarms.find((p) => p.MetricName === 'orders_pending_oldest_age')!;
    assert.equal(stuck.Threshold, 120 + 60);
  });

  test('threshold overrides win over the environment', () => {
    const r = customAlarms.filter((p) => p.MetricName === 'http_requests');
    assert.equal(r.length, routes.length);
    for (const p of r) assert.equal(p.Threshold, 9);
  });

  test('one e-mail subscription per distinct address of the alarmEmail list', () => {
    const subs = ofType(custom.resources, 'AWS::SNS::Subscription').map(([, s]) => s.Properties! as CfnResource['Properties'] & Record<string, any>);
    assert.deepEqual(subs.map((s) => `${s.Protocol} ${s.Endpoint}`).sort(), ['email a@example.com', 'email b@example.org']);
    for (const s of subs) assert.equal(refOf(s.TopicArn), ofType(custom.resources, 'AWS::SNS::Topic')[0][0]);
    assert.equal(ofType(resources, 'AWS::SNS::Subscription').length, 0, 'none by default');
  });

  test('a malformed address fails the synth', () => {
    assert.deepEqual(parseAlarmEmails(undefined), []);
    assert.deepEqual(parseAlarmEmails(' , '), []);
    assert.throws(() => parseAlarmEmails('ops@example.com,not-an-address'), /"not-an-address" is not an e-mail address/);
  });

  test('canary: false leaves the canary and its alarm out', () => {
    assert.equal(ofType(custom.resources, 'AWS::Synthetics::Canary').length, 0);
    assert.equal(customAlarms.filter((p) => p.Namespace === 'CloudWatchSynthetics').length, 0);
  });
});
