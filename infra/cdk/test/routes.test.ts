// The deployed API is exactly infra/routes.json, which the Rust route table
// generates. This test fails when the Rust route table and CDK disagree.
// Each service's routes live in a nested stack of their own; every stack,
// root and nested, stays under the resource budget, also for a route table
// several times today's.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, test } from 'node:test';
import { type ConsumerSpec, ROUTES_FILE, type RouteSpec } from '../lib/config';
import { RESOURCE_BUDGET } from '../lib/limits';
import {
  type CfnResource,
  type Synthesized,
  assertAuthenticatedRoutesReadTable,
  functionsOfKind,
  ofType,
  refOf,
  stackTemplates,
  synth,
  tagOf,
} from './synth';

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

const tag = tagOf;

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
  assert.equal(functionsOfKind(resources, 'route').length, routes.length, 'one function per route');
  return chains;
}

/** Each service's nested stack holds exactly its routes (and their functions); the root holds none. */
function assertOneNestedStackPerService(s: Synthesized, routes: readonly RouteSpec[]): void {
  const services = [...new Set(routes.map((r) => r.service))];
  assert.deepEqual(s.nested.map((n) => n.service), services, 'one nested stack per service, in order');
  // ... plus the checkout saga's (checkout.test.ts), which holds no route.
  assert.equal(ofType(s.rootResources, 'AWS::CloudFormation::Stack').length, services.length + 1);
  assert.deepEqual(ofType(s.checkout.resources, 'AWS::ApiGatewayV2::Route'), [], 'no API route in the checkout saga');
  assert.deepEqual(ofType(s.rootResources, 'AWS::ApiGatewayV2::Route'), [], 'no API route in the root');
  assert.deepEqual(functionsOfKind(s.rootResources, 'route'), [], 'no route function in the root');
  for (const n of s.nested) {
    const own = n.template.toJSON().Resources as Record<string, CfnResource>;
    const expected = routes.filter((r) => r.service === n.service);
    const keys = ofType(own, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties!.RouteKey).sort();
    assert.deepEqual(keys, expected.map((r) => `${r.method} ${r.path}`).sort(), `${n.service}: its routes`);
    const fns = functionsOfKind(own, 'route').map(([, f]) => tag(f, 'amazon-lite:function')).sort();
    assert.deepEqual(fns, expected.map((r) => r.function).sort(), `${n.service}: its functions`);
    // Routes of the nested stack attach to the root's API.
    for (const [, r] of ofType(n.resources, 'AWS::ApiGatewayV2::Route')) {
      assert.equal(s.rootResources[refOf(r.Properties!.ApiId)!]?.Type, 'AWS::ApiGatewayV2::Api');
    }
  }
}

/** Resource count of every template (root and nested), each under the budget. */
function assertUnderBudget(s: Synthesized): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [name, res] of stackTemplates(s)) {
    counts[name] = Object.keys(res).length;
    assert.ok(counts[name] <= RESOURCE_BUDGET, `${name}: ${counts[name]} resources (budget ${RESOURCE_BUDGET})`);
  }
  return counts;
}

describe('API routes = infra/routes.json', () => {
  // Read the file directly (not through lib/config) so a loader bug cannot hide a difference.
  const routes: RouteSpec[] = JSON.parse(fs.readFileSync(ROUTES_FILE, 'utf-8')).routes;
  const real = synth();
  const { template, resources } = real;

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
    for (const [, fn] of functionsOfKind(resources, 'route')) {
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
    for (const [, fn] of functionsOfKind(resources, 'route')) {
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

  test('one nested stack per service holds its routes; the root holds none', () => {
    assertOneNestedStackPerService(real, routes);
  });

  test('every bearer/admin route function may read the table (sessions, signing keys)', () => {
    assertAuthenticatedRoutesReadTable(resources, routes);
  });

  test(`every stack stays under ${RESOURCE_BUDGET} resources`, (t) => {
    const counts = assertUnderBudget(real);
    t.diagnostic(`resources per stack: ${JSON.stringify(counts)}`);
  });

  test('a stack over the resource budget fails the synth, naming the stack', () => {
    assert.throws(() => synth({ resourceBudget: 60 }), /AuthRoutes.*: \d+ CloudFormation resources, over the budget of 60/s);
  });

  test('120 routes over 12 services: every stack under the budget (synthetic route table)', (t) => {
    // Twelve services of 10 routes each, mixing methods, auth levels and
    // table access levels inside each service (including bearer/admin
    // routes that do not use the table), and a few event consumers.
    const services = Array.from({ length: 12 }, (_, i) => `svc${String.fromCharCode(97 + i)}`);
    const consumers: ConsumerSpec[] = services.slice(0, 4).map((service) => ({
      name: `${service}-sync`,
      service,
      binary: service,
      detailTypes: ['thing.created.v1'],
    }));
    const many: RouteSpec[] = [];
    const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
    const auth = ['public', 'bearer', 'admin'] as const;
    const access = ['none', 'read', 'readWrite'] as const;
    for (let i = 0; i < 120; i++) {
      const service = services[i % services.length];
      many.push({
        method: methods[i % methods.length],
        path: `/v1/${service}/r${i}/{id}`,
        service,
        function: `${service}-r${i}`,
        auth: auth[i % 3],
        table: access[Math.floor(i / 3) % 3],
      });
    }
    assert.ok(many.some((r) => r.auth !== 'public' && r.table === 'none'), 'covers bearer/admin routes without table access');
    const synthetic = synth({ routes: many, consumers });
    assertRoutesMatch(synthetic.resources, many);
    assertOneNestedStackPerService(synthetic, many);
    assertAuthenticatedRoutesReadTable(synthetic.resources, many);
    const counts = assertUnderBudget(synthetic);
    t.diagnostic(`resources per stack: ${JSON.stringify(counts)}`);
    const codes = new Set(functionsOfKind(synthetic.resources, 'route').map(([, f]) => JSON.stringify(f.Properties!.Code)));
    assert.equal(codes.size, services.length, 'one code asset per service');
  });
});
