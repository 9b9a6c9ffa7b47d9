// The synthetic shopper: the journey (lib/canary/journey.js) runs for real
// against a small HTTP server that speaks the API's catalog, search and
// guest cart; the canary's inline script (the journey + the Synthetics
// handler) runs in a sandbox with a stand-in Synthetics module against the
// same server; and the template has the canary, its schedule and its alarm.
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as vm from 'node:vm';
import { after, before, describe, test } from 'node:test';
import { API_URL_ENV, CANARY_RUNTIME, canaryNameFor, canaryScript } from '../lib/canary';
import { JourneyError, runJourney } from '../lib/canary/journey';
import { ENVIRONMENTS } from '../lib/environments';
import { ofType, refOf, synth } from './synth';

interface Seen {
  method: string;
  path: string;
  correlationId?: string;
  cartToken?: string;
}

/** A tiny shop: two products, search by name word, guest carts by token. `faults` breaks one step. */
function shop(faults: { searchStatus?: number; keepLineOnDelete?: boolean; emptyCatalog?: boolean; slowMs?: number } = {}) {
  const products = faults.emptyCatalog
    ? []
    : [
        { id: 'p-1', name: 'Walnut Desk Lamp', price: { amount: 4999, currency: 'USD' } },
        { id: 'p-2', name: 'Linen Throw', price: { amount: 2999, currency: 'USD' } },
      ];
  const carts = new Map<string, { productId: string; quantity: number }[]>();
  const seen: Seen[] = [];
  let tokens = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://x');
      seen.push({
        method: req.method!,
        path: url.pathname + url.search,
        correlationId: req.headers['x-correlation-id'] as string | undefined,
        cartToken: req.headers['x-cart-token'] as string | undefined,
      });
      const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
        const out = () => {
          res.writeHead(status, { 'content-type': 'application/json', ...headers });
          res.end(JSON.stringify(json));
        };
        if (faults.slowMs) setTimeout(out, faults.slowMs);
        else out();
      };
      const cartOf = (token: string) => ({ items: carts.get(token) ?? [], cartToken: token });
      let m: RegExpMatchArray | null;
      if (req.method === 'GET' && url.pathname === '/v1/products') return send(200, { items: products, nextCursor: null });
      if (req.method === 'GET' && (m = url.pathname.match(/^\/v1\/products\/([^/]+)$/))) {
        const p = products.find((x) => x.id === decodeURIComponent(m![1]));
        return p ? send(200, p) : send(404, { type: 'about:blank', status: 404 });
      }
      if (req.method === 'GET' && url.pathname === '/v1/search') {
        if (faults.searchStatus) return send(faults.searchStatus, { status: faults.searchStatus, title: 'broken' });
        const q = (url.searchParams.get('q') ?? '').toLowerCase();
        return send(200, { items: products.filter((p) => p.name.toLowerCase().includes(q)), total: 0, facets: {}, nextCursor: null });
      }
      if (req.method === 'POST' && url.pathname === '/v1/cart/items') {
        const { productId, quantity } = JSON.parse(body);
        if (!products.some((p) => p.id === productId)) return send(404, { status: 404 });
        const token = (req.headers['x-cart-token'] as string) ?? `guest-${++tokens}`;
        carts.set(token, [...(carts.get(token) ?? []), { productId, quantity }]);
        return send(200, cartOf(token), { 'x-cart-token': token });
      }
      if (req.method === 'DELETE' && (m = url.pathname.match(/^\/v1\/cart\/items\/([^/]+)$/))) {
        const token = req.headers['x-cart-token'] as string;
        if (!token || !carts.has(token)) return send(404, { status: 404 });
        if (!faults.keepLineOnDelete) carts.set(token, carts.get(token)!.filter((l) => l.productId !== decodeURIComponent(m![1])));
        return send(200, cartOf(token));
      }
      send(404, { status: 404 });
    });
  });
  return { server, seen, carts };
}

async function listening(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

describe('the journey against a local shop', () => {
  const s = shop();
  let url = '';
  before(async () => {
    url = await listening(s.server);
  });
  after(() => s.server.close());

  test('browse, search, add to a guest cart and remove again, in that order', async () => {
    const steps: string[] = [];
    const result = await runJourney({
      baseUrl: url,
      fetch,
      runId: 'r1',
      step: async (name, fn) => {
        steps.push(name);
        return fn();
      },
    });
    assert.deepEqual(steps, ['browse', 'search', 'cart']);
    assert.deepEqual(
      s.seen.map((x) => `${x.method} ${x.path}`),
      [
        'GET /v1/products?limit=5',
        'GET /v1/products/p-1',
        'GET /v1/search?q=Walnut&limit=5',
        'POST /v1/cart/items',
        'DELETE /v1/cart/items/p-1',
      ],
    );
    assert.deepEqual(result, { productId: 'p-1', query: 'Walnut', found: 1, cartToken: 'guest-1' });
    // The guest cart is left empty; the delete carried its token.
    assert.deepEqual(s.carts.get('guest-1'), []);
    assert.equal(s.seen[4].cartToken, 'guest-1');
    assert.equal(s.seen[3].cartToken, undefined, 'the add is a guest write without a token');
    assert.deepEqual(
      s.seen.map((x) => x.correlationId),
      ['canary-r1-list-products', 'canary-r1-get-product', 'canary-r1-search', 'canary-r1-add-to-cart', 'canary-r1-remove-from-cart'],
    );
  });
});

describe('the journey fails on what a shopper would notice', () => {
  const cases: [string, Parameters<typeof shop>[0], RegExp][] = [
    ['an empty catalog', { emptyCatalog: true }, /^browse: the product listing is empty/],
    ['a failing search', { searchStatus: 503 }, /^search: GET \/v1\/search\?q=Walnut&limit=5 answered 503, expected 200/],
    ['a delete that keeps the line', { keepLineOnDelete: true }, /^cart: the line for p-1 is still in the cart after DELETE/],
    ['an API that does not answer in time', { slowMs: 3000 }, /^list-products: GET \/v1\/products\?limit=5: no answer in 500 ms/],
  ];
  for (const [what, faults, message] of cases) {
    test(what, async () => {
      const s = shop(faults);
      const url = await listening(s.server);
      try {
        // A short request timeout only where it is the point (a loaded machine answers slowly).
        const timeoutMs = faults?.slowMs ? 500 : 10_000;
        await assert.rejects(runJourney({ baseUrl: url, fetch, timeoutMs }), (err: Error) => {
          assert.ok(err instanceof JourneyError, String(err));
          assert.match(err.message, message);
          return true;
        });
      } finally {
        s.server.closeAllConnections();
        s.server.close();
      }
    });
  }

  test('no API URL', async () => {
    await assert.rejects(runJourney({ baseUrl: '', fetch }), /setup: API URL "" is not http\(s\)/);
  });
});

// The same journey against a real API when one is given: the local API
// (`scripts/with-local-api bash -c 'cd infra/cdk && node --import tsx --test test/canary.test.ts'`)
// or a deployed stage.
describe('the journey against a real API (AMAZON_LITE_URL)', () => {
  const url = process.env.AMAZON_LITE_URL;
  test('browse, search, guest cart and back', { skip: url ? false : 'AMAZON_LITE_URL is not set', timeout: 180_000 }, async () => {
    let steps: string[] = [];
    const run = () => {
      steps = [];
      return runJourney({
        baseUrl: url!,
        fetch,
        step: async (name, fn) => {
          steps.push(name);
          return fn();
        },
      });
    };
    // A fresh local API indexes its demo catalog through the bus after it
    // starts serving (search is eventually consistent): until the product is
    // searchable the journey stops at its search step, before touching a cart.
    const deadline = Date.now() + 150_000;
    let result: Awaited<ReturnType<typeof runJourney>> | undefined;
    while (!result) {
      try {
        result = await run();
      } catch (err) {
        const notYetIndexed = err instanceof JourneyError && err.step === 'search' && /nothing found/.test(err.message);
        if (!notYetIndexed || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 3000));
      }
    }
    assert.deepEqual(steps, ['browse', 'search', 'cart']);
    assert.ok(result.found >= 1 && result.cartToken !== '', JSON.stringify(result));
  });
});

describe("the canary's inline script", () => {
  test('runs the journey as Synthetics steps, without screenshots, against API_URL', async () => {
    const s = shop();
    const url = await listening(s.server);
    const steps: string[] = [];
    let config: Record<string, unknown> = {};
    const fakeSynthetics = {
      getConfiguration: () => ({ setConfig: (c: Record<string, unknown>) => (config = { ...config, ...c }) }),
      executeStep: async (name: string, fn: () => Promise<unknown>) => {
        steps.push(name);
        await fn();
      },
    };
    const module = { exports: {} as Record<string, any> };
    const sandbox = {
      module,
      exports: module.exports,
      require: (name: string) => {
        if (name === 'Synthetics') return fakeSynthetics;
        throw new Error(`the canary script requires ${name}: the runtime may not have it`);
      },
      process: { env: { [API_URL_ENV]: url } },
      fetch,
      AbortController,
      setTimeout,
      clearTimeout,
      URL,
      Date,
    };
    try {
      vm.runInNewContext(canaryScript(), sandbox, { filename: 'index.js' });
      const result = await module.exports.handler();
      assert.deepEqual(steps, ['browse', 'search', 'cart']);
      assert.equal(result.productId, 'p-1');
      assert.deepEqual(config, { screenshotOnStepStart: false, screenshotOnStepSuccess: false, screenshotOnStepFailure: false });
      assert.equal(s.seen.length, 5);
    } finally {
      s.server.close();
    }
  });
});

describe('canary in the template', () => {
  const { resources } = synth();
  const canaries = ofType(resources, 'AWS::Synthetics::Canary');

  test('one canary every 5 minutes on the current Node.js runtime, inline, against the stage URL', () => {
    assert.equal(canaries.length, 1);
    const p = canaries[0][1].Properties!;
    assert.equal(p.RuntimeVersion, CANARY_RUNTIME.name);
    assert.equal(p.Schedule.Expression, 'rate(5 minutes)');
    assert.equal(p.Code.Handler, 'index.handler');
    assert.equal(p.Code.Script, canaryScript());
    assert.equal(p.Name, canaryNameFor(ENVIRONMENTS.dev.stackName));
    const apiUrl = JSON.stringify(p.RunConfig.EnvironmentVariables[API_URL_ENV]);
    const apiId = ofType(resources, 'AWS::ApiGatewayV2::Api')[0][0];
    assert.ok(apiUrl.includes(`{"Ref":"${apiId}"}`) && apiUrl.includes('AWS::Region'), apiUrl);
    assert.equal(p.ProvisionedResourceCleanup, 'AUTOMATIC');
  });

  test('its artifacts bucket is private, encrypted and expires runs', () => {
    const p = canaries[0][1].Properties!;
    const bucketId = refOf(p.ArtifactS3Location['Fn::Join'][1][1])!;
    const b = resources[bucketId].Properties!;
    assert.ok(b.BucketEncryption);
    assert.deepEqual(b.PublicAccessBlockConfiguration, { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    assert.equal(b.LifecycleConfiguration.Rules[0].ExpirationInDays, 31);
  });

  test('an alarm on its SuccessPercent, missing runs counting as failures', () => {
    const alarms = ofType(resources, 'AWS::CloudWatch::Alarm').filter(([, a]) => a.Properties!.Namespace === 'CloudWatchSynthetics');
    assert.equal(alarms.length, 1);
    const p = alarms[0][1].Properties!;
    assert.equal(p.MetricName, 'SuccessPercent');
    assert.deepEqual(p.Dimensions, [{ Name: 'CanaryName', Value: { Ref: canaries[0][0] } }]);
    assert.equal(p.ComparisonOperator, 'LessThanThreshold');
    assert.equal(p.Threshold, ENVIRONMENTS.dev.alarms.canarySuccessPercent);
    assert.equal(p.TreatMissingData, 'breaching');
  });

  test('canary names: at most 21 characters of [a-z0-9_-], distinct per environment', () => {
    const names = Object.values(ENVIRONMENTS).map((e) => canaryNameFor(e.stackName));
    for (const n of [...names, canaryNameFor('A-Very_Long.Stack-Name-For-Testing')]) assert.match(n, /^[a-z0-9_-]{1,21}$/);
    assert.equal(new Set(names).size, names.length);
    assert.equal(canaryNameFor('amazon-lite'), 'amazon-lite-api');
  });
});
