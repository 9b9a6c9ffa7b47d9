// Environments side by side: dev, staging and prod synthesized in one App
// (as in one account and region) share no explicit physical name, bake in
// no region or account, and each gets its own sizes, retention, namespace,
// thresholds and table protection.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { App } from 'aws-cdk-lib';
import { AmazonLiteStack } from '../lib/amazon-lite-stack';
import { ENVIRONMENTS, type EnvironmentConfig } from '../lib/environments';
import { METRICS_NAMESPACE_ENV } from '../lib/metric-catalog';
import { type CfnResource, type Synthesized, ofType, stackTemplates, templatesOf } from './synth';

/** Resource type -> the properties that are its physical name (unique per account and region). */
const PHYSICAL_NAMES: Record<string, readonly string[]> = {
  'AWS::Lambda::Function': ['FunctionName'],
  'AWS::DynamoDB::Table': ['TableName'],
  'AWS::SQS::Queue': ['QueueName'],
  'AWS::SNS::Topic': ['TopicName'],
  'AWS::Events::EventBus': ['Name'],
  'AWS::Events::Archive': ['ArchiveName'],
  'AWS::Events::Rule': ['Name'],
  'AWS::Logs::LogGroup': ['LogGroupName'],
  'AWS::Logs::QueryDefinition': ['Name'],
  'AWS::CloudWatch::Alarm': ['AlarmName'],
  'AWS::CloudWatch::Dashboard': ['DashboardName'],
  'AWS::SecretsManager::Secret': ['Name'],
  'AWS::StepFunctions::StateMachine': ['StateMachineName'],
  'AWS::Synthetics::Canary': ['Name'],
  'AWS::S3::Bucket': ['BucketName'],
  'AWS::IAM::Role': ['RoleName'],
  'AWS::IAM::ManagedPolicy': ['ManagedPolicyName'],
  'AWS::CodeDeploy::Application': ['ApplicationName'],
  'AWS::CodeDeploy::DeploymentGroup': ['DeploymentGroupName'],
  'AWS::OpenSearchServerless::Collection': ['Name'],
  'AWS::OpenSearchServerless::SecurityPolicy': ['Name'],
  'AWS::OpenSearchServerless::AccessPolicy': ['Name'],
  'AWS::AppConfig::Application': ['Name'],
  'AWS::AppConfig::Environment': ['Name'],
  'AWS::Scheduler::Schedule': ['Name'],
};

const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const envs = [ENVIRONMENTS.dev, ENVIRONMENTS.staging, ENVIRONMENTS.prod];
// Every stack exists before the first synthesis (the tree is frozen after it).
const stacks = envs.map((e) => new AmazonLiteStack(app, `AmazonLite-${e.name}`, { stackName: e.stackName, environment: e }));
const synthesized: [EnvironmentConfig, Synthesized][] = stacks.map((s, i) => [envs[i], templatesOf(s)]);

/** "Type.Property" -> explicit name, over every template of one synthesis (root and nested, unresolved). */
function physicalNames(s: Synthesized): [string, string][] {
  const out: [string, string][] = [];
  for (const [, res] of stackTemplates(s)) {
    for (const r of Object.values(res)) {
      for (const prop of PHYSICAL_NAMES[r.Type] ?? []) {
        const v = r.Properties?.[prop];
        if (v !== undefined) out.push([`${r.Type}.${prop}`, JSON.stringify(v)]);
      }
    }
  }
  return out;
}

/**
 * What every template of a synthesis says, but its Mappings: a mapping keyed
 * by region (a per-region lookup with Fn::FindInMap on AWS::Region) names
 * every region on purpose and bakes in none.
 */
function templatesWithoutMappings(s: Synthesized): string {
  const all = [s.template.toJSON(), ...s.nested.map((n) => n.template.toJSON()), s.checkout.template.toJSON()];
  return JSON.stringify(all.map(({ Mappings: _mappings, ...rest }) => rest));
}

describe('environments side by side in one account and region', () => {
  const names = synthesized.map(([e, s]) => [e, physicalNames(s)] as const);

  test('each has the explicit names it needs: bus, state machine, collection, canary, saved queries', () => {
    for (const [e, n] of names) {
      const types = new Set(n.map(([k]) => k));
      for (const k of [
        'AWS::Events::EventBus.Name',
        'AWS::StepFunctions::StateMachine.StateMachineName',
        'AWS::OpenSearchServerless::Collection.Name',
        'AWS::Synthetics::Canary.Name',
        'AWS::Logs::QueryDefinition.Name',
      ]) {
        assert.ok(types.has(k), `${e.name}: ${k}`);
      }
    }
  });

  test('no explicit physical name is shared between two environments', () => {
    for (let i = 0; i < names.length; i++) {
      for (let j = i + 1; j < names.length; j++) {
        const [a, an] = names[i];
        const [b, bn] = names[j];
        const mine = new Set(an.map(([k, v]) => `${k}=${v}`));
        const shared = bn.map(([k, v]) => `${k}=${v}`).filter((x) => mine.has(x));
        assert.deepEqual(shared, [], `${a.name} and ${b.name}`);
      }
    }
  });

  test('no region or account is baked in: pseudo parameters only', () => {
    const region = /\b(us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov)-(north|south|east|west|central|northeast|southeast|southwest|northwest)-\d\b/;
    for (const [e, s] of synthesized) {
      const text = templatesWithoutMappings(s);
      assert.doesNotMatch(text, region, `${e.name}: a region name`);
      assert.doesNotMatch(text, /(?<![0-9a-f])\d{12}(?![0-9a-f])/, `${e.name}: a 12-digit account id`);
      assert.ok(text.includes('"Ref":"AWS::Region"') && text.includes('"Ref":"AWS::AccountId"'), `${e.name}: uses the pseudo parameters`);
    }
  });
});

describe("each environment's settings reach the stack", () => {
  for (const [e, s] of synthesized) {
    test(`${e.name}: memory, log retention, metrics namespace, throttling`, () => {
      const fns = ofType(s.resources, 'AWS::Lambda::Function').filter(([, f]) => f.Properties!.Runtime === 'provided.al2023');
      assert.ok(fns.length > 60);
      for (const [id, f] of fns) {
        assert.equal(f.Properties!.MemorySize, e.memorySize, id);
        assert.equal(f.Properties!.Environment.Variables[METRICS_NAMESPACE_ENV], e.metricsNamespace, id);
      }
      const groups = ofType(s.resources, 'AWS::Logs::LogGroup');
      assert.ok(groups.length >= fns.length);
      for (const [id, g] of groups) assert.equal(g.Properties!.RetentionInDays, e.logRetention, id);
      const [, stage] = ofType(s.resources, 'AWS::ApiGatewayV2::Stage')[0];
      assert.equal(stage.Properties!.DefaultRouteSettings.ThrottlingRateLimit, e.throttle.rateLimit);
      assert.equal(stage.Properties!.DefaultRouteSettings.ThrottlingBurstLimit, e.throttle.burstLimit);
    });

    test(`${e.name}: table protection`, () => {
      const [[, table]] = ofType(s.resources, 'AWS::DynamoDB::Table') as [string, CfnResource][];
      assert.equal(table.Properties!.DeletionProtectionEnabled, e.tableDeletionProtection);
      assert.deepEqual(table.Properties!.PointInTimeRecoverySpecification, { PointInTimeRecoveryEnabled: e.pointInTimeRecovery });
      assert.equal(table.DeletionPolicy, e.tableRemovalPolicy === 'retain' ? 'Retain' : 'Delete');
    });

    test(`${e.name}: alarm thresholds, on its own namespace`, () => {
      const alarms = ofType(s.resources, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties!);
      const route5xx = alarms.filter((a) => a.MetricName === 'http_requests');
      assert.ok(route5xx.length > 0);
      for (const a of route5xx) {
        assert.equal(a.Namespace, e.metricsNamespace);
        assert.equal(a.Threshold, e.alarms.route5xxPerMinute);
      }
      const rate = alarms.find((a) => (a.Metrics ?? []).some((m: any) => m.MetricStat?.Metric.MetricName === 'orders_failed'))!;
      assert.equal(rate.Threshold, e.alarms.checkoutFailurePercent);
      const api5xx = alarms.find((a) => (a.Metrics ?? []).some((m: any) => m.MetricStat?.Metric.Namespace === 'AWS/ApiGateway' && m.MetricStat.Metric.MetricName === '5xx'))!;
      assert.equal(api5xx.Threshold, e.alarms.api5xxPer5Minutes);
    });
  }

  test('prod keeps its table whatever happens; dev keeps it on destroy; staging may drop it', () => {
    assert.equal(ENVIRONMENTS.prod.tableRemovalPolicy, 'retain');
    assert.equal(ENVIRONMENTS.prod.tableDeletionProtection, true);
    assert.equal(ENVIRONMENTS.dev.tableRemovalPolicy, 'retain');
    assert.equal(ENVIRONMENTS.staging.tableRemovalPolicy, 'destroy');
  });
});
