// The deploy path, with bundling ON: a stand-in `cargo` on PATH records each
// `cargo lambda build` and writes a fake `bootstrap`. Checks that a synth runs
// one release arm64 build per service (not per route), in the service's crate,
// and that every function of the service gets that build's asset (the
// functions are in the service's nested stack); a consumer (infra/consumers.json)
// runs its service's binary, so it adds a build only for a service without
// routes (checkout); plus one build of the relay, and one each of the
// checkout saga's task binary (its seven task functions share it) and the
// reservation sweeper.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { App } from 'aws-cdk-lib';
import { AmazonLiteStack } from '../lib/amazon-lite-stack';
import { CHECKOUT_SERVICE, CHECKOUT_TASKS, CHECKOUT_TASK_BINARY } from '../lib/checkout';
import { REPO_ROOT, loadConsumers, loadRoutes, servicesOf } from '../lib/config';
import { SWEEPER_BINARY, SWEEPER_SERVICE } from '../lib/reservation-sweeper';
import { type CfnResource, functionsOfKind, ofType, tagOf, templatesOf } from './synth';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'amazon-lite-bundling-'));
const log = path.join(work, 'cargo.log');
const bin = path.join(work, 'bin');
fs.mkdirSync(bin);
fs.writeFileSync(
  path.join(bin, 'cargo'),
  `#!/usr/bin/env bash
# stand-in for cargo-lambda: \`cargo lambda --version\` and \`cargo lambda build ...\`
[ "$1 $2" = "lambda --version" ] && { echo "cargo-lambda 1.9.0 (fake)"; exit 0; }
[ "$1 $2" = "lambda build" ] || { echo "unexpected: cargo $*" >&2; exit 2; }
echo "$PWD|$*" >> "${log}"
shift 2
while [ $# -gt 0 ]; do
  case "$1" in
    --lambda-dir) dir="$2"; shift ;;
    --bin) name="$2"; shift ;;
  esac
  shift
done
mkdir -p "$dir" && printf 'fake bootstrap of %s\\n' "$name" > "$dir/bootstrap"
`,
  { mode: 0o755 },
);

const routes = loadRoutes();
const services = servicesOf(routes);
const consumers = loadConsumers();
const consumerBinaries = [...new Set(consumers.map((c) => `${c.service}/${c.binary}`))];
/** Every service binary: the route services' and the consumers' (the same binary when a service has both). */
const serviceBinaries = new Set([...services.map((s) => `${s}/${s}`), ...consumerBinaries]);
/** The checkout saga's binaries: the task functions' and the sweeper's. */
const sagaBinaries: [string, string][] = [
  [CHECKOUT_SERVICE, CHECKOUT_TASK_BINARY],
  [SWEEPER_SERVICE, SWEEPER_BINARY],
];
const savedPath = process.env.PATH;
process.env.PATH = `${bin}${path.delimiter}${savedPath}`;
let resources: Record<string, CfnResource>;
try {
  const app = new App({ outdir: path.join(work, 'cdk.out') }); // bundling on (the default)
  resources = templatesOf(new AmazonLiteStack(app, 'AmazonLiteStack')).resources;
} finally {
  process.env.PATH = savedPath;
}
after(() => fs.rmSync(work, { recursive: true, force: true }));

describe('bundling (stand-in cargo lambda)', () => {
  const builds = fs.existsSync(log)
    ? fs.readFileSync(log, 'utf-8').trim().split('\n').map((l) => l.split('|') as [string, string])
    : [];

  const binOf = (args: string): string => {
    const a = args.split(' ');
    return a[a.indexOf('--bin') + 1];
  };
  const buildOf = (crate: string, binary: string) =>
    builds.find(([cwd, args]) => cwd === path.join(REPO_ROOT, 'functions', crate) && binOf(args) === binary);

  test('one cargo lambda build per service (not per route or consumer), plus the relay and the saga binaries', () => {
    assert.equal(builds.length, serviceBinaries.size + 1 + sagaBinaries.length, builds.map((b) => b[1]).join('\n'));
  });

  test('every consumer runs its service binary', () => {
    for (const c of consumers) assert.equal(c.binary, c.service, c.name);
  });

  const expected: [string, string][] = [
    ...services.map((s): [string, string] => [s, s]),
    ['relay', 'relay'],
    ...consumers.map((c): [string, string] => [c.service, c.binary]),
    ...sagaBinaries,
  ];
  for (const [crate, binary] of expected) {
    test(`${binary}: release arm64 build of the ${binary} binary in functions/${crate}`, () => {
      const build = buildOf(crate, binary);
      assert.ok(build, `a build of ${binary} in functions/${crate}`);
      const args = build[1].split(' ');
      for (const flag of ['--release', '--arm64']) assert.ok(args.includes(flag), flag);
      assert.equal(args[args.indexOf('--flatten') + 1], binary);
    });
  }

  test("each service's functions share its built asset", () => {
    const codes = new Map<string, Set<string>>();
    for (const [, fn] of functionsOfKind(resources, 'route')) {
      const service = fn.Properties!.Tags.find((t: any) => t.Key === 'amazon-lite:service').Value;
      codes.set(service, (codes.get(service) ?? new Set()).add(fn.Properties!.Code.S3Key));
    }
    for (const service of services) assert.equal(codes.get(service)?.size, 1, service);
    assert.equal(new Set([...codes.values()].map((s) => [...s][0])).size, services.length);
  });

  test("a consumer of a service with routes runs the routes' asset", () => {
    const routeKey = new Map<string, string>();
    for (const [, fn] of functionsOfKind(resources, 'route')) {
      routeKey.set(tagOf(fn, 'amazon-lite:service')!, fn.Properties!.Code.S3Key);
    }
    const consumerFunctions = functionsOfKind(resources, 'consumer');
    assert.equal(consumerFunctions.length, consumers.length);
    for (const [, fn] of consumerFunctions) {
      const service = tagOf(fn, 'amazon-lite:service')!;
      if (routeKey.has(service)) assert.equal(fn.Properties!.Code.S3Key, routeKey.get(service), tagOf(fn, 'amazon-lite:function'));
    }
  });

  test('the relay, the consumers of services without routes, the task functions and the sweeper run their own binary, not a route asset', () => {
    const routeKeys = new Set(functionsOfKind(resources, 'route').map(([, f]) => f.Properties!.Code.S3Key));
    const others = ofType(resources, 'AWS::Lambda::Function').filter(([, f]) => !routeKeys.has(f.Properties!.Code.S3Key));
    const routeless = consumers.filter((c) => !services.includes(c.service));
    const routelessBinaries = new Set(routeless.map((c) => `${c.service}/${c.binary}`));
    assert.equal(others.length, 1 + routeless.length + CHECKOUT_TASKS.length + 1);
    assert.equal(new Set(others.map(([, f]) => f.Properties!.Code.S3Key)).size, 1 + routelessBinaries.size + sagaBinaries.length);
  });

  test('the seven checkout task functions share one asset (checkout-task)', () => {
    const keys = new Set(functionsOfKind(resources, 'task').map(([, f]) => f.Properties!.Code.S3Key));
    assert.equal(functionsOfKind(resources, 'task').length, CHECKOUT_TASKS.length);
    assert.equal(keys.size, 1);
  });
});
