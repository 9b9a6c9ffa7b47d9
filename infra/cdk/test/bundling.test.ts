// The deploy path, with bundling ON: the stack takes the zips that
// scripts/build-lambdas wrote (stand-ins here, test/artifacts.ts) instead of
// building anything. Checks that the binaries the stack asks for are exactly
// the ones the script builds; that each service's functions share its
// binary's asset, a consumer runs its service's binary, the relay, the
// checkout saga's task binary (its seven task functions share it), the
// reservation sweeper and the administrator bootstrap each run their own;
// that the asset is the zip itself, uploaded as built; that `arch` sets every
// function's architecture; and that a missing or other-architecture artifact
// fails the synth with the command to run. With bundling skipped (every
// other test file) no artifact is needed.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { App } from 'aws-cdk-lib';
import { AmazonLiteStack, type AmazonLiteStackProps } from '../lib/amazon-lite-stack';
import { CHECKOUT_SERVICE, CHECKOUT_TASKS, CHECKOUT_TASK_BINARY } from '../lib/checkout';
import { loadConsumers, loadRoutes, servicesOf } from '../lib/config';
import { ADMIN_BOOTSTRAP_BINARY } from '../lib/admin-bootstrap';
import { parseLambdaArch } from '../lib/lambda-artifacts';
import { SWEEPER_BINARY, SWEEPER_SERVICE } from '../lib/reservation-sweeper';
import { scriptBinaries, writeFakeArtifacts } from './artifacts';
import { type CfnResource, functionsOfKind, ofType, synth, tagOf, templatesOf } from './synth';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'amazon-lite-artifacts-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));

const routes = loadRoutes();
const services = servicesOf(routes);
const consumers = loadConsumers();
const binaries = scriptBinaries();

/** A synth with bundling on, over fake artifacts in `dir`. */
function bundled(name: string, props: AmazonLiteStackProps): { stack: AmazonLiteStack; resources: Record<string, CfnResource>; outdir: string } {
  const outdir = path.join(work, `${name}.out`);
  const app = new App({ outdir }); // bundling on (the default)
  const stack = new AmazonLiteStack(app, 'AmazonLiteStack', { adminEmail: 'ops@shop.example.com', ...props });
  const { resources } = templatesOf(stack);
  app.synth();
  return { stack, resources, outdir };
}

const arm = path.join(work, 'arm64');
writeFakeArtifacts(arm, 'arm64', binaries);
const { stack, resources, outdir } = bundled('arm64', { lambdaArtifactsDir: arm });
/** Our functions (not CDK's own Node.js custom-resource providers). */
const rustFunctions = (res: Record<string, CfnResource>) =>
  ofType(res, 'AWS::Lambda::Function').filter(([, f]) => f.Properties!.Runtime === 'provided.al2023');
const lambdas = rustFunctions(resources);
const s3Key = (fn: CfnResource): string => fn.Properties!.Code.S3Key;

describe('prebuilt artifacts (scripts/build-lambdas)', () => {
  test('the stack asks for exactly the binaries scripts/build-lambdas builds', () => {
    assert.deepEqual([...stack.artifacts.binaries].sort(), [...binaries].sort());
  });

  test('every consumer runs its service binary', () => {
    for (const c of consumers) assert.equal(c.binary, c.service, c.name);
  });

  test('every function is arm64 by default, provided.al2023, handler bootstrap', () => {
    assert.ok(lambdas.length > 0);
    assert.equal(new Set(lambdas.map(([, f]) => tagOf(f, 'amazon-lite:function'))).size, lambdas.length);
    for (const [id, fn] of lambdas) {
      assert.deepEqual(fn.Properties!.Architectures, ['arm64'], id);
      assert.equal(fn.Properties!.Runtime, 'provided.al2023', id);
      assert.equal(fn.Properties!.Handler, 'bootstrap', id);
    }
  });

  test("each service's functions share its built asset", () => {
    const codes = new Map<string, Set<string>>();
    for (const [, fn] of functionsOfKind(resources, 'route')) {
      const service = tagOf(fn, 'amazon-lite:service')!;
      codes.set(service, (codes.get(service) ?? new Set()).add(s3Key(fn)));
    }
    for (const service of services) assert.equal(codes.get(service)?.size, 1, service);
    assert.equal(new Set([...codes.values()].map((s) => [...s][0])).size, services.length);
  });

  test("a consumer of a service with routes runs the routes' asset", () => {
    const routeKey = new Map<string, string>();
    for (const [, fn] of functionsOfKind(resources, 'route')) routeKey.set(tagOf(fn, 'amazon-lite:service')!, s3Key(fn));
    const consumerFunctions = functionsOfKind(resources, 'consumer');
    assert.equal(consumerFunctions.length, consumers.length);
    for (const [, fn] of consumerFunctions) {
      const service = tagOf(fn, 'amazon-lite:service')!;
      if (routeKey.has(service)) assert.equal(s3Key(fn), routeKey.get(service), tagOf(fn, 'amazon-lite:function'));
    }
  });

  test('the relay, the consumers of services without routes, the task functions, the sweeper and the admin bootstrap run their own binary', () => {
    const routeKeys = new Set(functionsOfKind(resources, 'route').map(([, f]) => s3Key(f)));
    const others = lambdas.filter(([, f]) => !routeKeys.has(s3Key(f)));
    const routeless = consumers.filter((c) => !services.includes(c.service));
    const routelessBinaries = new Set(routeless.map((c) => `${c.service}/${c.binary}`));
    const own: [string, string][] = [
      [CHECKOUT_SERVICE, CHECKOUT_TASK_BINARY],
      [SWEEPER_SERVICE, SWEEPER_BINARY],
      ['auth', ADMIN_BOOTSTRAP_BINARY],
    ];
    assert.equal(others.length, 1 + routeless.length + CHECKOUT_TASKS.length + 1 + 1);
    assert.equal(new Set(others.map(([, f]) => s3Key(f))).size, 1 + routelessBinaries.size + own.length);
  });

  test('the seven checkout task functions share one asset (checkout-task)', () => {
    const tasks = functionsOfKind(resources, 'task');
    assert.equal(tasks.length, CHECKOUT_TASKS.length);
    assert.equal(new Set(tasks.map(([, f]) => s3Key(f))).size, 1);
  });

  test('the asset is the zip as built: uploaded as a file, its bytes unchanged', () => {
    const manifests = fs.readdirSync(outdir).filter((f) => f.endsWith('.assets.json'));
    const files = manifests.flatMap((m) => Object.values(JSON.parse(fs.readFileSync(path.join(outdir, m), 'utf-8')).files ?? {}));
    const catalogZip = fs.readFileSync(path.join(arm, 'catalog', 'bootstrap.zip'));
    const staged = files.filter((f: any) => f.source.packaging === 'file' && f.source.path.endsWith('.zip'));
    const matching = staged.filter((f: any) => fs.readFileSync(path.join(outdir, f.source.path)).equals(catalogZip));
    assert.ok(matching.length >= 1, 'the catalog zip is staged unchanged');
  });
});

describe('arch and missing artifacts', () => {
  test('-c arch=x86_64 with x86_64 artifacts: every function is x86_64', () => {
    const dir = path.join(work, 'x86');
    writeFakeArtifacts(dir, 'x86_64', binaries);
    const { resources } = bundled('x86', { lambdaArtifactsDir: dir, lambdaArch: 'x86_64' });
    const fns = rustFunctions(resources);
    assert.ok(fns.length > 0);
    for (const [id, fn] of fns) assert.deepEqual(fn.Properties!.Architectures, ['x86_64'], id);
  });

  test('x86_64 artifacts for an arm64 stack fail the synth', () => {
    const dir = path.join(work, 'x86-only');
    writeFakeArtifacts(dir, 'x86_64', binaries);
    assert.throws(
      () => bundled('mismatch', { lambdaArtifactsDir: dir }),
      /was built for x86_64, the stack deploys arm64: run scripts\/build-lambdas --arch arm64, or synthesize with -c arch=x86_64/,
    );
  });

  test('a missing artifact fails the synth and names scripts/build-lambdas', () => {
    const dir = path.join(work, 'partial');
    writeFakeArtifacts(dir, 'arm64', binaries.filter((b) => b !== 'relay'));
    assert.throws(
      () => bundled('partial', { lambdaArtifactsDir: dir }),
      /Lambda artifact .*relay\/bootstrap\.zip is missing: run scripts\/build-lambdas --arch arm64 first/,
    );
  });

  test('without bundling no artifact is needed (placeholders, one per binary)', () => {
    const s = synth({ adminEmail: 'ops@shop.example.com', lambdaArtifactsDir: path.join(work, 'nothing-here') });
    const keys = new Set(rustFunctions(s.resources).map(([, f]) => s3Key(f)));
    assert.equal(keys.size, binaries.length);
    assert.deepEqual([...s.stack.artifacts.binaries].sort(), [...binaries].sort());
  });

  test('arch parses arm64 and x86_64 only, default arm64', () => {
    assert.equal(parseLambdaArch(undefined), 'arm64');
    assert.equal(parseLambdaArch(' x86_64 '), 'x86_64');
    assert.throws(() => parseLambdaArch('amd64'), /arch="amd64": use arm64 or x86_64/);
  });
});
