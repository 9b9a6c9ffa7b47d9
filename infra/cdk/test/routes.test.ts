// The deployed API is exactly infra/routes.json, which the Rust route table
// generates. This test fails when the Rust route table and CDK disagree.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { ROUTES_FILE, type RouteSpec } from '../lib/config';
import { type CfnResource, ofType, refOf, synth } from './synth';

interface RouteChain {
  route: CfnResource;
  integrationId: string;
  aliasId: string;
  functionId: string;
  fn: CfnResource;
}

/** Follows Route -> Integration -> Alias -> Function for every API route of a template. */
function routeChains(resources: Record<string, CfnResource>): Map<string, RouteChain[]> {
  const byKey = new Map<string, RouteChain[]>();
  for (const [, route] of ofType(resources, 'AWS::ApiGatewayV2::Route')) {
    const target = route.Properties!.Target;
    // Target: {"Fn::Join": ["", ["integrations/", {"Ref": integration}]]}
    const parts = target['Fn::Join'][1];
    assert.equal(parts[0], 'integrations/');
    const integrationId = refOf(parts[1])!;
    const integration = resources[integrationId];
    assert.equal(integration?.Type, 'AWS::ApiGatewayV2::Integration');
    assert.equal(integration.Properties!.IntegrationType, 'AWS_PROXY');
    const aliasId = refOf(integration.Properties!.IntegrationUri)!;
    const alias = resources[aliasId];
    assert.equal(alias?.Type, 'AWS::Lambda::Alias', `integration ${integrationId} must target a Lambda alias`);
    const functionId = refOf(alias.Properties!.FunctionName)!;
    const fn = resources[functionId];
    assert.equal(fn?.Type, 'AWS::Lambda::Function');
    const key = route.Properties!.RouteKey;
    byKey.set(key, [...(byKey.get(key) ?? []), { route, integrationId, aliasId, functionId, fn }]);
  }
  return byKey;
}

function tag(fn: CfnResource, key: string): string | undefined {
  return (fn.Properties!.Tags ?? []).find((t: { Key: string }) => t.Key === key)?.Value;
}

/** The template's routes agree one to one with `routes`, each on its own function. */
function assertRoutesMatch(resources: Record<string, CfnResource>, routes: readonly RouteSpec[]): Map<string, RouteChain[]> {
  const chains = routeChains(resources);
  for (const r of routes) {
    const key = `${r.method} ${r.path}`;
    const found = chains.get(key) ?? [];
    assert.equal(found.length, 1, `exactly one API route ${key} (found ${found.length})`);
    assert.equal(tag(found[0].fn, 'amazon-lite:function'), r.function, `${key} is served by function ${r.function}`);
    assert.equal(tag(found[0].fn, 'amazon-lite:service'), r.service, `${key} runs the ${r.service} binary`);
  }
  const templateRoutes = ofType(resources, 'AWS::ApiGatewayV2::Route').length;
  const extra = [...chains.keys()].filter((k) => !routes.some((r) => `${r.method} ${r.path}` === k));
  assert.deepEqual(extra, [], 'API routes that routes.json does not list');
  assert.equal(templateRoutes, routes.length, 'as many API routes as routes.json entries');

  // Dedicated: no two routes share an integration, alias or function.
  const all = [...chains.values()].flat();
  for (const field of ['integrationId', 'aliasId', 'functionId'] as const) {
    assert.equal(new Set(all.map((c) => c[field])).size, routes.length, `one ${field} per route`);
  }
  assert.equal(ofType(resources, 'AWS::Lambda::Function').length, routes.length, 'one function per route');
  return chains;
}

describe('API routes = infra/routes.json', () => {
  // Read the file directly (not through lib/config) so a loader bug cannot hide a difference.
  const routes: RouteSpec[] = JSON.parse(fs.readFileSync(ROUTES_FILE, 'utf-8')).routes;
  const { template, resources } = synth();

  test('routes.json is not empty', () => {
    assert.ok(routes.length > 0);
  });

  test('every route exists exactly once, on its own function, and nothing else is routed', () => {
    assertRoutesMatch(resources, routes);
  });

  test('the integration points at the live alias (payload format 2.0)', () => {
    for (const c of [...routeChains(resources).values()].flat()) {
      assert.equal(resources[c.aliasId].Properties!.Name, 'live');
      assert.equal(resources[c.integrationId].Properties!.PayloadFormatVersion, '2.0');
    }
  });

  test('API Gateway may invoke each alias', () => {
    const permissions = ofType(resources, 'AWS::Lambda::Permission').map(([, p]) => p.Properties!);
    for (const c of [...routeChains(resources).values()].flat()) {
      assert.ok(
        permissions.some(
          (p) => refOf(p.FunctionName) === c.aliasId && p.Principal === 'apigateway.amazonaws.com' && p.Action === 'lambda:InvokeFunction',
        ),
        `invoke permission for ${c.aliasId}`,
      );
    }
  });

  test('functions: Rust binary on provided.al2023, arm64, 256 MB, 10 s, X-Ray, environment', () => {
    for (const [, fn] of ofType(resources, 'AWS::Lambda::Function')) {
      const p = fn.Properties!;
      assert.equal(p.Runtime, 'provided.al2023');
      assert.equal(p.Handler, 'bootstrap');
      assert.deepEqual(p.Architectures, ['arm64']);
      assert.equal(p.MemorySize, 256);
      assert.equal(p.Timeout, 10);
      assert.deepEqual(p.TracingConfig, { Mode: 'Active' });
      const env = p.Environment.Variables;
      assert.equal(env.RUST_LOG, 'info');
      assert.equal(resources[refOf(env.TABLE_NAME)!].Type, 'AWS::DynamoDB::Table');
      assert.equal(resources[refOf(env.AMAZON_LITE_CURSOR_SECRET_ARN)!].Type, 'AWS::SecretsManager::Secret');
    }
  });

  test('each service ships one artifact: its functions share one code asset', () => {
    const keyByService = new Map<string, Set<string>>();
    for (const [, fn] of ofType(resources, 'AWS::Lambda::Function')) {
      const service = tag(fn, 'amazon-lite:service')!;
      keyByService.set(service, (keyByService.get(service) ?? new Set()).add(JSON.stringify(fn.Properties!.Code)));
    }
    const services = new Set(routes.map((r) => r.service));
    assert.deepEqual([...keyByService.keys()].sort(), [...services].sort());
    for (const [service, keys] of keyByService) assert.equal(keys.size, 1, `${service} has one code asset`);
    const allKeys = [...keyByService.values()].map((s) => [...s][0]);
    assert.equal(new Set(allKeys).size, services.size, 'services do not share assets');
  });

  test('the API URL is an output', () => {
    template.hasOutput('ApiUrl', {});
  });

  test('any number of routes and services (synthetic route table)', () => {
    // A repository with three services, one not in routes.json, and a mix
    // of table access levels inside one service.
    const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'amazon-lite-cdk-'));
    try {
      const services = ['alpha', 'beta', 'gamma'];
      for (const s of services) {
        fs.mkdirSync(path.join(repo, 'functions', s), { recursive: true });
        fs.writeFileSync(
          path.join(repo, 'functions', s, 'Cargo.toml'),
          `[package]\nname = "${s}"\nversion = "0.1.0"\n\n[[bin]]\nname = "${s}"\npath = "src/main.rs"\n`,
        );
      }
      const many: RouteSpec[] = [];
      const access = ['none', 'read', 'readWrite'] as const;
      for (let i = 0; i < 12; i++) {
        const service = services[i % 3];
        many.push({
          method: i % 2 === 0 ? 'GET' : 'POST',
          path: `/v1/${service}/r${i}/{id}`,
          service,
          function: `${service}-r${i}`,
          auth: 'bearer',
          table: access[Math.floor(i / 3) % 3],
        });
      }
      const synthetic = synth({ routes: many, repoRoot: repo });
      assertRoutesMatch(synthetic.resources, many);
      const codes = new Set(ofType(synthetic.resources, 'AWS::Lambda::Function').map(([, f]) => JSON.stringify(f.Properties!.Code)));
      assert.equal(codes.size, services.length, 'one code asset per service');
    } finally {
      fs.rmSync(repo, { recursive: true, force: true });
    }
  });
});
