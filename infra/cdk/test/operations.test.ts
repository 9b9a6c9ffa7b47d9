// The HTTP API stage (throttling, access logs, CORS), the cursor key, alarms,
// the dashboard and canary releases.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { CHECKOUT_TASKS } from '../lib/checkout';
import { loadConsumers, loadRoutes } from '../lib/config';
import { RESOURCE_BUDGET } from '../lib/limits';
import { ofType, refOf, stackTemplates, synth } from './synth';

const routes = loadRoutes();
const consumers = loadConsumers();
const real = synth();
const { template, resources } = real;
/** The checkout saga's functions (checkout.test.ts): one per task and the reservation sweeper. */
const SAGA_FUNCTIONS = CHECKOUT_TASKS.length + 1;

describe('HTTP API stage', () => {
  const stages = ofType(resources, 'AWS::ApiGatewayV2::Stage');

  test('one auto-deployed $default stage with throttling', () => {
    assert.equal(stages.length, 1);
    const p = stages[0][1].Properties!;
    assert.equal(p.StageName, '$default');
    assert.equal(p.AutoDeploy, true);
    assert.ok(p.DefaultRouteSettings.ThrottlingRateLimit > 0);
    assert.ok(p.DefaultRouteSettings.ThrottlingBurstLimit > 0);
  });

  test('access logs go to a log group, as JSON with the request id', () => {
    const p = stages[0][1].Properties!;
    assert.equal(resources[refOf(p.AccessLogSettings.DestinationArn)!].Type, 'AWS::Logs::LogGroup');
    assert.equal(JSON.parse(p.AccessLogSettings.Format).requestId, '$context.requestId');
  });

  test('no CORS unless origins are configured', () => {
    const [, api] = ofType(resources, 'AWS::ApiGatewayV2::Api')[0];
    assert.equal(api.Properties!.ProtocolType, 'HTTP');
    assert.equal(api.Properties!.CorsConfiguration, undefined);
  });

  test('CORS for configured origins', () => {
    const withCors = synth({ corsOrigins: ['https://shop.example.com'] });
    withCors.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.objectLike({
        AllowOrigins: ['https://shop.example.com'],
        AllowHeaders: Match.arrayWith(['Authorization', 'Idempotency-Key']),
        ExposeHeaders: Match.arrayWith(['X-Correlation-Id']),
      }),
    });
  });

  test('throttling is configurable', () => {
    const custom = synth({ throttle: { rateLimit: 7, burstLimit: 9 } });
    custom.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 7, ThrottlingBurstLimit: 9 },
    });
  });
});

describe('cursor and signing keys', () => {
  test('three generated secrets in the root stack: the cursor key, the signing key and the payment webhook key', () => {
    const secrets = ofType(resources, 'AWS::SecretsManager::Secret');
    assert.deepEqual(secrets.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort(), ['AuthSigningKey', 'CursorKey', 'PaymentWebhookSecret']);
    assert.deepEqual(ofType(real.rootResources, 'AWS::SecretsManager::Secret'), secrets, 'both in the root');
    for (const [, s] of secrets) assert.ok(s.Properties!.GenerateSecretString.PasswordLength >= 32);
  });

  test("the signing key's ARN is an output (for rotations)", () => {
    template.hasOutput('SigningSecretArn', { Value: { Ref: ofType(resources, 'AWS::SecretsManager::Secret').find(([id]) => id.startsWith('AuthSigningKey'))![0] } });
  });
});

describe('alarms and dashboard', () => {
  const alarms = ofType(resources, 'AWS::CloudWatch::Alarm').map(([id, a]) => ({ id, p: a.Properties! }));
  const topics = ofType(resources, 'AWS::SNS::Topic');

  test('alarms exist and notify the SNS topic', () => {
    assert.ok(alarms.length > 0);
    assert.equal(topics.length, 1);
    for (const a of alarms) assert.deepEqual(a.p.AlarmActions, [{ Ref: topics[0][0] }], a.id);
  });

  test('one Errors >= 1 in 5 minutes alarm per function', () => {
    const errorAlarms = alarms.filter((a) => a.p.Namespace === 'AWS/Lambda' && a.p.MetricName === 'Errors');
    assert.equal(errorAlarms.length, routes.length + SAGA_FUNCTIONS);
    for (const a of errorAlarms) {
      assert.equal(a.p.Threshold, 1);
      assert.equal(a.p.Period, 300);
      assert.equal(a.p.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
    }
  });

  const metricsOf = (a: { p: any }) =>
    a.p.MetricName ? [{ Namespace: a.p.Namespace, MetricName: a.p.MetricName, Stat: a.p.ExtendedStatistic ?? a.p.Statistic }]
      : a.p.Metrics.filter((m: any) => m.MetricStat).map((m: any) => ({ ...m.MetricStat.Metric, Stat: m.MetricStat.Stat }));

  test('API 5xx and p99 latency alarms', () => {
    const api = alarms.flatMap(metricsOf).filter((m: any) => m.Namespace === 'AWS/ApiGateway');
    assert.ok(api.some((m: any) => m.MetricName === '5xx'));
    assert.ok(api.some((m: any) => m.MetricName === 'Latency' && m.Stat === 'p99'));
  });

  test('DynamoDB throttled requests alarm', () => {
    assert.ok(alarms.flatMap(metricsOf).some((m: any) => m.Namespace === 'AWS/DynamoDB' && m.MetricName === 'ThrottledRequests'));
  });

  test('a dashboard with API and per-function widgets, in the root', () => {
    const dashboards = ofType(real.rootResources, 'AWS::CloudWatch::Dashboard');
    assert.equal(dashboards.length, 1);
    const body = JSON.stringify(dashboards[0][1].Properties!.DashboardBody);
    for (const title of ['API requests', 'API errors', 'API latency', 'Function errors', 'Function duration']) {
      assert.ok(body.includes(title), title);
    }
    for (const r of routes) assert.ok(body.includes(r.function), `dashboard shows ${r.function}`);
    // Each function's error alarm, read from its nested stack's outputs.
    const alarmRefs = body.match(/"Fn::GetAtt":\["[A-Za-z0-9]+NestedStackResource[A-Za-z0-9]+","Outputs\.[A-Za-z0-9]+Errors[A-Za-z0-9]*Arn"\]/g) ?? [];
    const routeAlarmRefs = alarmRefs.filter((r) => !r.includes('CheckoutSaga'));
    assert.equal(routeAlarmRefs.length, routes.length, 'an alarm status entry per route function');
    assert.equal(alarmRefs.length - routeAlarmRefs.length, SAGA_FUNCTIONS, "and one per checkout saga function (the 'Checkout alarms' widget)");
  });
});

describe('releases', () => {
  test('a canary deployment group per function, rolled back by its error alarm', () => {
    const groups = ofType(resources, 'AWS::CodeDeploy::DeploymentGroup');
    assert.equal(groups.length, routes.length);
    for (const [, g] of groups) {
      const p = g.Properties!;
      assert.equal(p.DeploymentConfigName, 'CodeDeployDefault.LambdaCanary10Percent5Minutes');
      assert.equal(p.AlarmConfiguration.Enabled, true);
      const alarmId = refOf(p.AlarmConfiguration.Alarms[0].Name)!;
      assert.equal(resources[alarmId].Properties!.MetricName, 'Errors');
      assert.ok(p.AutoRollbackConfiguration.Events.includes('DEPLOYMENT_STOP_ON_ALARM'));
    }
  });

  test('every live alias is updated through CodeDeploy', () => {
    const aliases = ofType(resources, 'AWS::Lambda::Alias');
    assert.equal(aliases.length, routes.length);
    for (const [, a] of aliases) {
      assert.equal(a.Properties!.Name, 'live');
      assert.ok(a.UpdatePolicy?.CodeDeployLambdaAliasUpdate, 'CodeDeployLambdaAliasUpdate');
    }
  });

  test('every template stays under the CloudFormation resource limit with room to grow', () => {
    for (const [name, res] of stackTemplates(real)) {
      const count = Object.keys(res).length;
      assert.ok(count <= RESOURCE_BUDGET && RESOURCE_BUDGET < 500, `${name}: ${count} resources`);
    }
    // Root: the outbox relay and a function per event consumer; the nested stacks: a function per route.
    // The checkout saga's nested stack: a function per task and the sweeper.
    template.resourceCountIs('AWS::Lambda::Function', 1 + consumers.length);
    assert.equal(ofType(real.checkout.resources, 'AWS::Lambda::Function').length, SAGA_FUNCTIONS);
    assert.equal(ofType(resources, 'AWS::Lambda::Function').length, routes.length + 1 + consumers.length + SAGA_FUNCTIONS);
  });
});
