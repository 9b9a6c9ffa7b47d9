// Runtime flags on AppConfig (lib/flags.ts): the application, environment,
// freeform profile with the default document and its schema validator,
// strategy and first deployment; the extension layer, variables and read
// permission on exactly the functions that read flags; the layer looked up
// by region at deploy (no region baked in), per architecture, or named by
// context.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, test } from 'node:test';
import { App } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AmazonLiteStack } from '../lib/amazon-lite-stack';
import {
  DEFAULT_FLAGS_FILE,
  FLAGS_APPLICATION_ENV,
  FLAGS_ENVIRONMENT_ENV,
  FLAGS_PROFILE_ENV,
  FLAGS_SCHEMA_FILE,
  FLAG_CONSUMERS,
  publishedLayerArns,
} from '../lib/flags';
import { type CfnResource, type Synthesized, actionsOf, ofType, refOf, roleStatements, synth, tagOf, templatesOf } from './synth';

const s = synth();

/** The functions that read flags, by their `amazon-lite:function` tag. */
const READERS = ['search-query', 'orders-place', ...FLAG_CONSUMERS];

function functions(syn: Synthesized): [string, CfnResource][] {
  return ofType(syn.resources, 'AWS::Lambda::Function');
}

function fnNamed(syn: Synthesized, name: string): [string, CfnResource] {
  const found = functions(syn).find(([, f]) => tagOf(f, 'amazon-lite:function') === name);
  assert.ok(found, `function ${name}`);
  return found;
}

function only(syn: Synthesized, type: string): [string, CfnResource] {
  const all = ofType(syn.rootResources, type);
  assert.equal(all.length, 1, `one ${type}`);
  return all[0];
}

describe('AppConfig resources', () => {
  test('one application and one environment named after the stack environment', () => {
    const [appId, app] = only(s, 'AWS::AppConfig::Application');
    assert.equal(app.Properties!.Name, 'amazon-lite');
    const [, env] = only(s, 'AWS::AppConfig::Environment');
    assert.equal(env.Properties!.Name, 'dev');
    assert.equal(refOf(env.Properties!.ApplicationId), appId);
  });

  test('a freeform profile validated by the flags schema, its first version the default document, deployed', () => {
    const [profileId, profile] = only(s, 'AWS::AppConfig::ConfigurationProfile');
    assert.equal(profile.Properties!.Type, 'AWS.Freeform');
    assert.equal(profile.Properties!.LocationUri, 'hosted');
    assert.deepEqual(profile.Properties!.Validators, [
      { Type: 'JSON_SCHEMA', Content: fs.readFileSync(FLAGS_SCHEMA_FILE, 'utf8') },
    ]);
    const [versionId, version] = only(s, 'AWS::AppConfig::HostedConfigurationVersion');
    assert.equal(refOf(version.Properties!.ConfigurationProfileId), profileId);
    assert.equal(version.Properties!.ContentType, 'application/json');
    assert.deepEqual(JSON.parse(version.Properties!.Content), JSON.parse(fs.readFileSync(DEFAULT_FLAGS_FILE, 'utf8')));
    const [, deployment] = only(s, 'AWS::AppConfig::Deployment');
    assert.equal(refOf(deployment.Properties!.ConfigurationProfileId), profileId);
    assert.equal(refOf(deployment.Properties!.ConfigurationVersion), versionId);
    const [strategyId, strategy] = only(s, 'AWS::AppConfig::DeploymentStrategy');
    assert.equal(refOf(deployment.Properties!.DeploymentStrategyId), strategyId);
    assert.equal(strategy.Properties!.GrowthFactor, 100);
    assert.equal(strategy.Properties!.DeploymentDurationInMinutes, 0);
  });

  test('the ids a flip needs are stack outputs', () => {
    const outputs = s.template.toJSON().Outputs;
    const ids: [string, string][] = [
      ['FlagsApplicationId', 'AWS::AppConfig::Application'],
      ['FlagsEnvironmentId', 'AWS::AppConfig::Environment'],
      ['FlagsProfileId', 'AWS::AppConfig::ConfigurationProfile'],
      ['FlagsStrategyId', 'AWS::AppConfig::DeploymentStrategy'],
    ];
    for (const [output, type] of ids) assert.equal(refOf(outputs[output].Value), only(s, type)[0], output);
  });
});

describe('functions that read flags', () => {
  test('exactly the readers get the variables naming the configuration and the extension layer', () => {
    const [appId] = only(s, 'AWS::AppConfig::Application');
    const [envId] = only(s, 'AWS::AppConfig::Environment');
    const [profileId] = only(s, 'AWS::AppConfig::ConfigurationProfile');
    const withFlags = functions(s).filter(([, f]) => FLAGS_APPLICATION_ENV in (f.Properties!.Environment?.Variables ?? {}));
    assert.deepEqual(withFlags.map(([, f]) => tagOf(f, 'amazon-lite:function')).sort(), [...READERS].sort());
    for (const [, f] of withFlags) {
      const vars = f.Properties!.Environment.Variables;
      assert.equal(refOf(vars[FLAGS_APPLICATION_ENV]), appId);
      assert.equal(refOf(vars[FLAGS_ENVIRONMENT_ENV]), envId);
      assert.equal(refOf(vars[FLAGS_PROFILE_ENV]), profileId);
      assert.ok(vars.AWS_APPCONFIG_EXTENSION_PREFETCH_LIST, 'the extension fetches during init');
      assert.equal(f.Properties!.Layers.length, 1);
    }
    const withLayers = functions(s).filter(([, f]) => (f.Properties!.Layers ?? []).length > 0);
    assert.equal(withLayers.length, READERS.length, 'no other function carries the extension');
  });

  test('exactly the readers may read the configuration, and only that profile', () => {
    const [profileId] = only(s, 'AWS::AppConfig::ConfigurationProfile');
    for (const [id, f] of functions(s)) {
      const name = tagOf(f, 'amazon-lite:function');
      if (!f.Properties!.Role) continue;
      const grants = roleStatements(s.resources, id).filter((st) => actionsOf(st).some((a) => a.startsWith('appconfig:')));
      if (!READERS.includes(name ?? '')) {
        assert.deepEqual(grants, [], `${name} must not read AppConfig`);
        continue;
      }
      assert.equal(grants.length, 1, name);
      assert.deepEqual(actionsOf(grants[0]).sort(), ['appconfig:GetLatestConfiguration', 'appconfig:StartConfigurationSession']);
      assert.ok(JSON.stringify(grants[0].Resource).includes(profileId), `${name}: the profile's ARN, not *`);
    }
  });

  test('the layer is looked up by region at deploy, in a mapping of the published arm64 ARNs', () => {
    const [, f] = fnNamed(s, 'search-query');
    const layer = f.Properties!.Layers[0];
    const find = layer['Fn::FindInMap'];
    assert.ok(find, `a mapping lookup, not a baked ARN: ${JSON.stringify(layer)}`);
    assert.deepEqual(find[1], { Ref: 'AWS::Region' });
    const nested = s.nested.find((n) => n.service === 'search')!;
    const mapping = nested.template.toJSON().Mappings[find[0]];
    assert.match(mapping['us-east-1'].arn, /^arn:aws:lambda:us-east-1:\d{12}:layer:AWS-AppConfig-Extension-Arm64:\d+$/);
    assert.ok(Object.keys(mapping).length >= 10, 'many regions');
    for (const arn of Object.values(mapping).map((v: any) => v.arn)) assert.match(arn, /AWS-AppConfig-Extension-Arm64/);
  });

  test('x86_64 functions get the x86_64 layer', () => {
    const arns = publishedLayerArns(lambda.Architecture.X86_64);
    assert.match(arns['eu-west-1'], /^arn:aws:lambda:eu-west-1:\d{12}:layer:AWS-AppConfig-Extension:\d+$/);
    const x86 = synth({ lambdaArch: 'x86_64' });
    const [, f] = fnNamed(x86, 'checkout-start');
    const find = f.Properties!.Layers[0]['Fn::FindInMap'];
    const mapping = x86.template.toJSON().Mappings[find[0]];
    assert.equal(mapping['eu-west-1'].arn, arns['eu-west-1']);
  });

  test('a layer named by context is used as is', () => {
    const arn = 'arn:aws:lambda:xx-test-1:123456789012:layer:AWS-AppConfig-Extension-Arm64:7';
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [], appConfigExtensionLayerArn: arn } });
    const named = templatesOf(new AmazonLiteStack(app, 'AmazonLiteStack'));
    for (const name of READERS) assert.deepEqual(fnNamed(named, name)[1].Properties!.Layers, [arn]);
  });
});
