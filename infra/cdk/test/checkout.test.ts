// The commerce core: the checkout saga (Step Functions STANDARD from
// infra/checkout.asl.json, one task function per placeholder), the
// reservation sweeper, the payment webhook secret, and who may read it,
// resume the saga or start it. Checked on a synthetic route/consumer table
// (the commerce entries as the Rust side declares them) and on the real
// infra/routes.json + consumers.json.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import {
  AUTHORIZE_TASK,
  CHECKOUT_DEFINITION_FILE,
  CHECKOUT_TASKS,
  CHECKOUT_TASK_ENV,
  definitionPlaceholders,
  loadCheckoutDefinition,
  taskFunctionName,
} from '../lib/checkout';
import { type ConsumerSpec, type RouteSpec, loadConsumers, loadRoutes } from '../lib/config';
import { RESOURCE_BUDGET } from '../lib/limits';
import {
  CHECKOUT_PAYMENT_TIMEOUT_ENV,
  CHECKOUT_STATE_MACHINE_ENV,
  PAYMENT_WEBHOOK_SECRET_ENV,
  PAYMENT_WEBHOOK_URL_ENV,
} from '../lib/payments';
import { SWEEPER_FUNCTION } from '../lib/reservation-sweeper';
import { ITEM_ACTIONS, READ_ITEM_ACTIONS } from '../lib/table-access';
import { type CfnResource, type Synthesized, actionsOf, functionsOfKind, ofType, refOf, roleStatements, stackTemplates, synth, tagOf } from './synth';

const route = (method: RouteSpec['method'], p: string, fn: string, service: string, auth: RouteSpec['auth'], table: RouteSpec['table']): RouteSpec => ({
  method,
  path: p,
  function: fn,
  service,
  auth,
  table,
});

/** The commerce routes as the Rust route tables declare them. */
const COMMERCE_ROUTES: RouteSpec[] = [
  route('GET', '/v1/cart', 'cart-get', 'cart', 'public', 'read'),
  route('POST', '/v1/cart/items', 'cart-add-item', 'cart', 'public', 'readWrite'),
  route('PATCH', '/v1/cart/items/{productId}', 'cart-update-item', 'cart', 'public', 'readWrite'),
  route('DELETE', '/v1/cart/items/{productId}', 'cart-remove-item', 'cart', 'public', 'readWrite'),
  route('POST', '/v1/cart/merge', 'cart-merge', 'cart', 'bearer', 'readWrite'),
  route('POST', '/v1/orders', 'orders-place', 'orders', 'bearer', 'readWrite'),
  route('GET', '/v1/orders', 'orders-list', 'orders', 'bearer', 'read'),
  route('GET', '/v1/orders/{id}', 'orders-get', 'orders', 'bearer', 'read'),
  route('POST', '/v1/orders/{id}/cancel', 'orders-cancel', 'orders', 'bearer', 'readWrite'),
  route('POST', '/v1/orders/{id}/ship', 'orders-ship', 'orders', 'admin', 'readWrite'),
  route('POST', '/v1/payments/webhook', 'payments-webhook', 'payments', 'public', 'readWrite'),
  route('GET', '/v1/orders/{id}/payment', 'payments-get-order-payment', 'payments', 'bearer', 'read'),
];
const COMMERCE_CONSUMERS: ConsumerSpec[] = [
  { name: 'inventory-order-cancelled', service: 'inventory', binary: 'inventory', detailTypes: ['order.cancelled.v1'] },
  { name: 'payments-order-cancelled', service: 'payments', binary: 'payments', detailTypes: ['order.cancelled.v1'] },
  { name: 'payments-order-shipped', service: 'payments', binary: 'payments', detailTypes: ['order.shipped.v1'] },
  { name: 'checkout-start', service: 'checkout', binary: 'checkout', detailTypes: ['order.created.v1'] },
];

const AUTHORIZE_FUNCTION = taskFunctionName(AUTHORIZE_TASK);
const TASK_FUNCTIONS = CHECKOUT_TASKS.map((t) => taskFunctionName(t.task));
/** Who may read the webhook secret's value. */
const SECRET_READERS = ['payments-webhook', AUTHORIZE_FUNCTION, 'payments-order-cancelled', 'payments-order-shipped'];
/** Who may resume a waiting task. */
const TASK_RESPONDERS = ['payments-webhook', AUTHORIZE_FUNCTION];
const STARTERS = ['checkout-start'];

const commerce = synth({ routes: COMMERCE_ROUTES, consumers: COMMERCE_CONSUMERS });
const real = synth();
const realRoutes = loadRoutes();
const realConsumers = loadConsumers();

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Sid?: string;
}

function fnNamed(s: Synthesized, name: string): [string, CfnResource] {
  const found = ofType(s.resources, 'AWS::Lambda::Function').filter(([, f]) => tagOf(f, 'amazon-lite:function') === name);
  assert.equal(found.length, 1, `one function ${name}`);
  return found[0];
}

/** Every function of the synthesis by its `amazon-lite:function` tag. */
function allFunctions(s: Synthesized): [string, string, CfnResource][] {
  return ofType(s.resources, 'AWS::Lambda::Function')
    .filter(([, f]) => tagOf(f, 'amazon-lite:function') !== undefined)
    .map(([id, f]) => [tagOf(f, 'amazon-lite:function')!, id, f]);
}

const envOf = (f: CfnResource): Record<string, unknown> => f.Properties!.Environment?.Variables ?? {};
const statementsOf = (s: Synthesized, fnId: string): Statement[] => roleStatements(s.resources, fnId) as Statement[];
const resourcesOf = (st: Statement): unknown[] => (Array.isArray(st.Resource) ? st.Resource : [st.Resource]);

function stateMachineOf(s: Synthesized): [string, CfnResource] {
  const machines = ofType(s.resources, 'AWS::StepFunctions::StateMachine');
  assert.equal(machines.length, 1, 'one state machine');
  return machines[0];
}

function webhookSecretId(s: Synthesized): string {
  const found = ofType(s.rootResources, 'AWS::SecretsManager::Secret').filter(([id]) => id.startsWith('PaymentWebhookSecret'));
  assert.equal(found.length, 1, 'one webhook secret, in the root');
  return found[0][0];
}

/** The state machine's ARN as the functions get it: built from its name (the test resolves the join's text). */
function isStateMachineArn(value: unknown, name: string, kind: 'stateMachine' | 'execution' = 'stateMachine'): boolean {
  const text = JSON.stringify(value);
  return kind === 'stateMachine' ? text.endsWith(`:stateMachine:${name}"]]}`) : text.endsWith(`:execution:${name}:*"]]}`);
}

/** Names of the functions whose role has an Allow statement with `action`. */
function allowedTo(s: Synthesized, action: string): string[] {
  return allFunctions(s)
    .filter(([, id]) => statementsOf(s, id).some((st) => st.Effect === 'Allow' && actionsOf(st).includes(action)))
    .map(([name]) => name)
    .sort();
}

/** Names of the functions whose environment sets `variable`. */
function withVariable(s: Synthesized, variable: string): string[] {
  return allFunctions(s)
    .filter(([, , f]) => envOf(f)[variable] !== undefined)
    .map(([name]) => name)
    .sort();
}

describe('checkout definition (infra/checkout.asl.json)', () => {
  const text = fs.readFileSync(CHECKOUT_DEFINITION_FILE, 'utf-8');
  const asl = JSON.parse(text);

  test('its placeholders are exactly the seven task functions', () => {
    assert.deepEqual(definitionPlaceholders(text).sort(), CHECKOUT_TASKS.map((t) => t.placeholder).sort());
    assert.equal(CHECKOUT_TASKS.length, 7);
  });

  test("each placeholder is a Task state's FunctionName, and that state's payload names the placeholder's task", () => {
    const byPlaceholder = new Map<string, string>();
    for (const state of Object.values<any>(asl.States)) {
      const fn = state.Parameters?.FunctionName;
      if (state.Type !== 'Task' || typeof fn !== 'string') continue;
      const m = /^\$\{([A-Za-z0-9_]+)\}$/.exec(fn);
      assert.ok(m, `FunctionName ${fn} is one placeholder`);
      byPlaceholder.set(m[1], state.Parameters.Payload.task);
    }
    assert.deepEqual(
      Object.fromEntries([...byPlaceholder].sort()),
      Object.fromEntries(CHECKOUT_TASKS.map((t) => [t.placeholder, t.task]).sort()),
    );
  });

  test('a definition whose placeholders differ fails the synth, naming them', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'amazon-lite-asl-'));
    try {
      const missing = path.join(dir, 'missing.json');
      fs.writeFileSync(missing, text.replace('${FailOrderFunction}', 'arn:aws:lambda:eu-west-1:123456789012:function:x'));
      assert.throws(() => loadCheckoutDefinition(missing), /placeholders .* differ .*FailOrderFunction/s);
      const extra = path.join(dir, 'extra.json');
      fs.writeFileSync(extra, text.replace('${FailOrderFunction}', '${FailOrderFunctionV2}'));
      assert.throws(() => loadCheckoutDefinition(extra), /FailOrderFunctionV2/);
      const broken = path.join(dir, 'broken.json');
      fs.writeFileSync(broken, '{"StartAt": ');
      assert.throws(() => loadCheckoutDefinition(broken), /cannot read/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('checkout state machine', () => {
  const [smId, sm] = stateMachineOf(commerce);
  const p = sm.Properties!;
  const definition = fs.readFileSync(CHECKOUT_DEFINITION_FILE, 'utf-8');

  test('STANDARD, named <stack>-checkout, in the checkout nested stack (not the root)', () => {
    assert.equal(p.StateMachineType, 'STANDARD');
    assert.equal(p.StateMachineName, 'AmazonLiteStack-checkout');
    assert.ok(smId in commerce.checkout.resources);
    assert.deepEqual(ofType(commerce.rootResources, 'AWS::StepFunctions::StateMachine'), []);
  });

  test('its definition is the file, with substitutions for exactly its placeholders', () => {
    assert.deepEqual(JSON.parse(p.DefinitionString), JSON.parse(definition));
    assert.deepEqual(Object.keys(p.DefinitionSubstitutions).sort(), definitionPlaceholders(definition).sort());
  });

  test('each substitution is the ARN of its own task function, which runs that task', () => {
    const ids = new Set<string>();
    for (const { placeholder, task } of CHECKOUT_TASKS) {
      const value = p.DefinitionSubstitutions[placeholder];
      assert.deepEqual(Object.keys(value), ['Fn::GetAtt'], `${placeholder} is a function ARN`);
      assert.equal(value['Fn::GetAtt'][1], 'Arn');
      const fnId = value['Fn::GetAtt'][0];
      const fn = commerce.resources[fnId];
      assert.equal(fn.Type, 'AWS::Lambda::Function');
      assert.equal(envOf(fn)[CHECKOUT_TASK_ENV], task);
      assert.equal(tagOf(fn, 'amazon-lite:function'), taskFunctionName(task));
      assert.equal(tagOf(fn, 'amazon-lite:kind'), 'task');
      ids.add(fnId);
    }
    assert.equal(ids.size, 7, 'seven distinct functions');
    assert.equal(functionsOfKind(commerce.resources, 'task').length, 7, 'and no other task function');
  });

  test("its role may invoke exactly the seven task functions, and nothing else of Lambda's", () => {
    const role = commerce.resources[refOf(p.RoleArn)!];
    assert.equal(role.Type, 'AWS::IAM::Role');
    assert.equal(role.Properties!.AssumeRolePolicyDocument.Statement[0].Principal.Service, 'states.amazonaws.com');
    const roleId = refOf(p.RoleArn)!;
    const statements: Statement[] = ofType(commerce.resources, 'AWS::IAM::Policy')
      .filter(([, pol]) => pol.Properties!.Roles.some((r: unknown) => refOf(r) === roleId))
      .flatMap(([, pol]) => pol.Properties!.PolicyDocument.Statement);
    const lambdaStatements = statements.filter((st) => actionsOf(st).some((a) => a.startsWith('lambda:')));
    assert.equal(lambdaStatements.length, 1);
    assert.deepEqual(actionsOf(lambdaStatements[0]), ['lambda:InvokeFunction']);
    const invoked = resourcesOf(lambdaStatements[0]).map((r: any) => {
      assert.equal(r['Fn::GetAtt']?.[1], 'Arn', 'unqualified function ARN');
      return r['Fn::GetAtt'][0];
    });
    const substituted = Object.values<any>(p.DefinitionSubstitutions).map((v) => v['Fn::GetAtt'][0]);
    assert.deepEqual(invoked.sort(), substituted.sort());
    assert.ok(!JSON.stringify(statements).includes('states:'), 'the state machine starts nothing');
  });

  test('logs errors without execution data to its own log group; X-Ray on', () => {
    assert.deepEqual(
      { Level: p.LoggingConfiguration.Level, IncludeExecutionData: p.LoggingConfiguration.IncludeExecutionData },
      { Level: 'ERROR', IncludeExecutionData: false },
    );
    const groupId = refOf(p.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn)!;
    const group = commerce.resources[groupId];
    assert.equal(group.Type, 'AWS::Logs::LogGroup');
    assert.equal(group.Properties!.LogGroupName, '/aws/vendedlogs/states/AmazonLiteStack-checkout');
    assert.ok(group.Properties!.RetentionInDays > 0);
    assert.deepEqual(p.TracingConfiguration, { Enabled: true });
  });

  test('the name is configurable and validated', () => {
    const named = synth({ routes: COMMERCE_ROUTES, consumers: COMMERCE_CONSUMERS, checkoutStateMachineName: 'shop-checkout' });
    assert.equal(stateMachineOf(named)[1].Properties!.StateMachineName, 'shop-checkout');
    assert.ok(isStateMachineArn(envOf(fnNamed(named, 'checkout-start')[1])[CHECKOUT_STATE_MACHINE_ENV], 'shop-checkout'));
    assert.throws(() => synth({ routes: COMMERCE_ROUTES, consumers: COMMERCE_CONSUMERS, checkoutStateMachineName: 'no spaces' }), /checkoutStateMachineName/);
  });
});

describe('checkout task functions', () => {
  const tableId = ofType(commerce.resources, 'AWS::DynamoDB::Table')[0][0];
  const secretId = webhookSecretId(commerce);
  const [apiId] = ofType(commerce.resources, 'AWS::ApiGatewayV2::Api')[0];

  test('one code asset (crate checkout, binary checkout-task) for all seven', () => {
    const codes = new Set(TASK_FUNCTIONS.map((n) => JSON.stringify(fnNamed(commerce, n)[1].Properties!.Code)));
    assert.equal(codes.size, 1);
  });

  for (const { task } of CHECKOUT_TASKS) {
    const name = taskFunctionName(task);
    const authorize = task === AUTHORIZE_TASK;
    test(`${name}: CHECKOUT_TASK=${task}, the table's items read/write (no index, no Scan)${authorize ? ', the webhook secret and task responses' : ''}`, () => {
      const [id, fn] = fnNamed(commerce, name);
      const env = envOf(fn);
      assert.equal(env[CHECKOUT_TASK_ENV], task);
      assert.equal(refOf(env.TABLE_NAME), tableId);
      // The task binary builds the payments service at start-up, which requires the variable.
      assert.equal(refOf(env[PAYMENT_WEBHOOK_SECRET_ENV]), secretId);
      const statements = statementsOf(commerce, id);
      assert.ok(statements.every((st) => st.Effect === 'Allow'));

      const dynamo = statements.filter((st) => actionsOf(st).some((a) => a.startsWith('dynamodb:')));
      assert.equal(dynamo.length, 1, 'one DynamoDB statement');
      assert.deepEqual(actionsOf(dynamo[0]).sort(), [...ITEM_ACTIONS].sort());
      assert.equal(refOf(dynamo[0].Resource), tableId, 'the table itself, not its indexes');

      const secretReads = statements.filter((st) => actionsOf(st).includes('secretsmanager:GetSecretValue'));
      const states = statements.filter((st) => actionsOf(st).some((a) => a.startsWith('states:')));
      if (authorize) {
        assert.equal(env[PAYMENT_WEBHOOK_URL_ENV] !== undefined, true);
        assert.deepEqual(env[PAYMENT_WEBHOOK_URL_ENV], { 'Fn::Join': ['', [{ 'Fn::GetAtt': [apiId, 'ApiEndpoint'] }, '/v1/payments/webhook']] });
        assert.ok(isStateMachineArn(env[CHECKOUT_STATE_MACHINE_ENV], 'AmazonLiteStack-checkout'));
        assert.equal(secretReads.length, 1);
        assert.equal(refOf(secretReads[0].Resource), secretId);
        assert.equal(states.length, 1);
        assert.deepEqual(actionsOf(states[0]).sort(), ['states:SendTaskFailure', 'states:SendTaskSuccess']);
        assert.ok(isStateMachineArn(states[0].Resource, 'AmazonLiteStack-checkout'), JSON.stringify(states[0].Resource));
        assert.equal(fn.Properties!.Timeout, 60, 'the sandbox delivers its webhook inline, with retries');
      } else {
        assert.equal(env[PAYMENT_WEBHOOK_URL_ENV], undefined);
        assert.equal(env[CHECKOUT_STATE_MACHINE_ENV], undefined);
        assert.deepEqual(secretReads, [], 'never reads the webhook secret');
        assert.deepEqual(states, []);
      }
      assert.deepEqual(
        statements.flatMap(actionsOf).filter((a) => !a.startsWith('dynamodb:') && !a.startsWith('xray:')).sort(),
        authorize ? ['secretsmanager:GetSecretValue', 'states:SendTaskFailure', 'states:SendTaskSuccess'] : [],
        'nothing else',
      );
    });
  }

  test('each task has an errors alarm notifying the topic', () => {
    const topicId = ofType(commerce.resources, 'AWS::SNS::Topic')[0][0];
    for (const name of TASK_FUNCTIONS) {
      const [id] = fnNamed(commerce, name);
      const alarms = ofType(commerce.resources, 'AWS::CloudWatch::Alarm').filter(
        ([, a]) => a.Properties!.MetricName === 'Errors' && a.Properties!.Dimensions?.some((d: any) => refOf(d.Value) === id),
      );
      assert.equal(alarms.length, 1, name);
      assert.equal(alarms[0][1].Properties!.Threshold, 1);
      assert.deepEqual(alarms[0][1].Properties!.AlarmActions, [{ Ref: topicId }]);
    }
  });
});

/** The secret, resume and start grants and variables, for any route/consumer table holding the commerce entries. */
function assertCommerceWiring(s: Synthesized, routes: readonly RouteSpec[], consumers: readonly ConsumerSpec[]): void {
  const present = (names: readonly string[]) => {
    const all = new Set([...routes.map((r) => r.function), ...consumers.map((c) => c.name), ...TASK_FUNCTIONS]);
    return names.filter((n) => all.has(n)).sort();
  };
  const secretId = webhookSecretId(s);
  const smName = stateMachineOf(s)[1].Properties!.StateMachineName;

  // Only the four may read the webhook secret, and only that one secret.
  assert.deepEqual(
    allFunctions(s)
      .filter(([, id]) => statementsOf(s, id).some((st) => resourcesOf(st).some((r) => refOf(r) === secretId)))
      .map(([n]) => n)
      .sort(),
    present(SECRET_READERS),
    'who reads the webhook secret',
  );
  for (const name of present(SECRET_READERS)) {
    const reads = statementsOf(s, fnNamed(s, name)[0]).filter((st) => resourcesOf(st).some((r) => refOf(r) === secretId));
    assert.equal(reads.length, 1, name);
    assert.deepEqual(actionsOf(reads[0]), ['secretsmanager:GetSecretValue'], name);
  }
  // The variable: every function running a payments binary (it refuses to start without it).
  const paymentsBinaries = [
    ...routes.filter((r) => r.service === 'payments').map((r) => r.function),
    ...consumers.filter((c) => c.service === 'payments').map((c) => c.name),
    ...TASK_FUNCTIONS,
  ].sort();
  assert.deepEqual(withVariable(s, PAYMENT_WEBHOOK_SECRET_ENV), paymentsBinaries, `who gets ${PAYMENT_WEBHOOK_SECRET_ENV}`);
  for (const name of paymentsBinaries) assert.equal(refOf(envOf(fnNamed(s, name)[1])[PAYMENT_WEBHOOK_SECRET_ENV]), secretId);

  // Resuming tasks: the webhook and the authorize task, on the state machine only.
  for (const action of ['states:SendTaskSuccess', 'states:SendTaskFailure']) {
    assert.deepEqual(allowedTo(s, action), present(TASK_RESPONDERS), `who may ${action}`);
  }
  // Starting and looking up executions: checkout-start only.
  assert.deepEqual(allowedTo(s, 'states:StartExecution'), present(STARTERS), 'who may StartExecution');
  assert.deepEqual(allowedTo(s, 'states:DescribeExecution'), present(STARTERS), 'who may DescribeExecution');
  assert.deepEqual(withVariable(s, CHECKOUT_STATE_MACHINE_ENV), present([...TASK_RESPONDERS, ...STARTERS]), `who gets ${CHECKOUT_STATE_MACHINE_ENV}`);
  for (const name of present([...TASK_RESPONDERS, ...STARTERS])) {
    assert.ok(isStateMachineArn(envOf(fnNamed(s, name)[1])[CHECKOUT_STATE_MACHINE_ENV], smName), name);
  }

  // Every states: statement of every function names the state machine (or its executions), never '*'.
  for (const [name, id] of allFunctions(s)) {
    for (const st of statementsOf(s, id).filter((x) => actionsOf(x).some((a) => a.startsWith('states:')))) {
      const actions = actionsOf(st);
      if (actions.includes('states:DescribeExecution')) {
        assert.deepEqual(actions, ['states:DescribeExecution'], name);
        assert.ok(isStateMachineArn(st.Resource, smName, 'execution'), `${name}: ${JSON.stringify(st.Resource)}`);
      } else {
        assert.ok(isStateMachineArn(st.Resource, smName), `${name}: ${JSON.stringify(st.Resource)}`);
      }
    }
  }

  if (present(['checkout-start']).length === 1) {
    assert.equal(envOf(fnNamed(s, 'checkout-start')[1])[CHECKOUT_PAYMENT_TIMEOUT_ENV], '900');
    assert.equal(tagOf(fnNamed(s, 'checkout-start')[1], 'amazon-lite:kind'), 'consumer');
  }
  assert.deepEqual(withVariable(s, CHECKOUT_PAYMENT_TIMEOUT_ENV), present(STARTERS));
  assert.deepEqual(withVariable(s, PAYMENT_WEBHOOK_URL_ENV), [AUTHORIZE_FUNCTION]);
}

describe('payments and checkout wiring (synthetic commerce routes and consumers)', () => {
  test('the webhook secret: generated in the root, 64 alphanumeric characters, its ARN an output', () => {
    const id = webhookSecretId(commerce);
    const g = commerce.rootResources[id].Properties!.GenerateSecretString;
    assert.ok(g.PasswordLength >= 32);
    assert.equal(g.PasswordLength, 64);
    assert.equal(g.ExcludePunctuation, true);
    commerce.template.hasOutput('PaymentWebhookSecretArn', { Value: { Ref: id } });
    const out = commerce.template.toJSON().Outputs.CheckoutStateMachineArn;
    assert.ok(isStateMachineArn(out.Value, 'AmazonLiteStack-checkout'));
  });

  test('only payments-webhook, authorizePayment and the two payments consumers read the secret; only the first two resume the saga; only checkout-start starts it', () => {
    assertCommerceWiring(commerce, COMMERCE_ROUTES, COMMERCE_CONSUMERS);
  });

  test('payments-get-order-payment only reads: the table, its cursor key, nothing of the secret or the saga', () => {
    const [id, fn] = fnNamed(commerce, 'payments-get-order-payment');
    const actions = statementsOf(commerce, id).flatMap(actionsOf);
    assert.deepEqual([...new Set(actions.filter((a) => a.startsWith('dynamodb:')))].sort(), [...READ_ITEM_ACTIONS].sort());
    assert.ok(!actions.some((a) => a.startsWith('states:')));
    const secrets = statementsOf(commerce, id).filter((st) => actionsOf(st).includes('secretsmanager:GetSecretValue'));
    assert.equal(secrets.length, 1, 'the cursor key only');
    assert.ok(refOf(secrets[0].Resource)!.startsWith('CursorKey'));
    assert.equal(envOf(fn)[CHECKOUT_STATE_MACHINE_ENV], undefined);
  });

  test('cart and orders functions get nothing of payments or the saga', () => {
    for (const r of COMMERCE_ROUTES.filter((x) => x.service === 'cart' || x.service === 'orders')) {
      const [id, fn] = fnNamed(commerce, r.function);
      const env = envOf(fn);
      for (const v of [PAYMENT_WEBHOOK_SECRET_ENV, PAYMENT_WEBHOOK_URL_ENV, CHECKOUT_STATE_MACHINE_ENV, CHECKOUT_PAYMENT_TIMEOUT_ENV]) {
        assert.equal(env[v], undefined, `${r.function}: ${v}`);
      }
      assert.ok(!statementsOf(commerce, id).flatMap(actionsOf).some((a) => a.startsWith('states:')), r.function);
    }
  });

  test('inventory-order-cancelled gets nothing of payments or the saga', () => {
    const [id, fn] = fnNamed(commerce, 'inventory-order-cancelled');
    assert.equal(envOf(fn)[PAYMENT_WEBHOOK_SECRET_ENV], undefined);
    assert.ok(!statementsOf(commerce, id).flatMap(actionsOf).some((a) => a.startsWith('states:') || a.startsWith('secretsmanager:')));
  });

  test('checkout-start: StartExecution on the state machine, DescribeExecution on its executions, the payment timeout', () => {
    const [id] = fnNamed(commerce, 'checkout-start');
    const statements = statementsOf(commerce, id);
    const start = statements.filter((st) => actionsOf(st).includes('states:StartExecution'));
    assert.equal(start.length, 1);
    assert.deepEqual(actionsOf(start[0]), ['states:StartExecution']);
    assert.ok(isStateMachineArn(start[0].Resource, 'AmazonLiteStack-checkout'));
    const describe = statements.filter((st) => actionsOf(st).includes('states:DescribeExecution'));
    assert.equal(describe.length, 1);
    assert.ok(isStateMachineArn(describe[0].Resource, 'AmazonLiteStack-checkout', 'execution'), JSON.stringify(describe[0].Resource));
  });

  test('checkoutPaymentTimeoutSeconds reaches checkout-start, and is validated', () => {
    const custom = synth({ routes: COMMERCE_ROUTES, consumers: COMMERCE_CONSUMERS, checkoutPaymentTimeoutSeconds: 120 });
    assert.equal(envOf(fnNamed(custom, 'checkout-start')[1])[CHECKOUT_PAYMENT_TIMEOUT_ENV], '120');
    for (const bad of [30, 90.5, 86401]) {
      assert.throws(
        () => synth({ routes: COMMERCE_ROUTES, consumers: COMMERCE_CONSUMERS, checkoutPaymentTimeoutSeconds: bad }),
        /checkoutPaymentTimeoutSeconds must be a whole number/,
        String(bad),
      );
    }
  });

  test('a payments consumer this stack does not know fails the synth', () => {
    const unknown: ConsumerSpec = { name: 'payments-refund-sync', service: 'payments', binary: 'payments', detailTypes: ['order.refunded.v1'] };
    assert.throws(() => synth({ routes: COMMERCE_ROUTES, consumers: [...COMMERCE_CONSUMERS, unknown] }), /payments-refund-sync/);
  });
});

describe('payments and checkout wiring (infra/routes.json, infra/consumers.json)', () => {
  test('the same rules hold for the real route and consumer tables', () => {
    assertCommerceWiring(real, realRoutes, realConsumers);
  });
});

describe('reservation sweeper', () => {
  const [fnId, fn] = fnNamed(commerce, SWEEPER_FUNCTION);
  const tableId = ofType(commerce.resources, 'AWS::DynamoDB::Table')[0][0];

  test('an EventBridge schedule every minute invokes it', () => {
    const rules = ofType(commerce.resources, 'AWS::Events::Rule').filter(([, r]) =>
      (r.Properties!.Targets ?? []).some((t: any) => refOf(t.Arn) === fnId),
    );
    assert.equal(rules.length, 1);
    const r = rules[0][1].Properties!;
    assert.equal(r.ScheduleExpression, 'rate(1 minute)');
    assert.equal(r.State, 'ENABLED');
    assert.equal(r.EventBusName, undefined, 'schedules run on the default bus');
    const permissions = ofType(commerce.resources, 'AWS::Lambda::Permission').filter(
      ([, perm]) => refOf(perm.Properties!.FunctionName) === fnId && perm.Properties!.Principal === 'events.amazonaws.com',
    );
    assert.equal(permissions.length, 1);
    assert.equal(refOf(permissions[0][1].Properties!.SourceArn), rules[0][0]);
  });

  test('TABLE_NAME; item read/write on the table and Query on GSI2 only; never Scan', () => {
    assert.equal(refOf(envOf(fn).TABLE_NAME), tableId);
    assert.equal(tagOf(fn, 'amazon-lite:service'), 'inventory');
    const statements = statementsOf(commerce, fnId);
    const dynamo = statements.filter((st) => actionsOf(st).some((a) => a.startsWith('dynamodb:')));
    assert.equal(dynamo.length, 2);
    const items = dynamo.find((st) => refOf(st.Resource) === tableId)!;
    assert.deepEqual(actionsOf(items).sort(), [...ITEM_ACTIONS].sort());
    const index = dynamo.find((st) => st !== items)!;
    assert.deepEqual(actionsOf(index), ['dynamodb:Query']);
    assert.deepEqual(index.Resource, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [tableId, 'Arn'] }, '/index/GSI2']] });
    assert.ok(!statements.flatMap(actionsOf).some((a) => a === 'dynamodb:Scan' || a.startsWith('secretsmanager:') || a.startsWith('states:')));
  });

  test('an errors alarm notifying the topic', () => {
    const topicId = ofType(commerce.resources, 'AWS::SNS::Topic')[0][0];
    const alarms = ofType(commerce.resources, 'AWS::CloudWatch::Alarm').filter(
      ([, a]) => a.Properties!.MetricName === 'Errors' && a.Properties!.Dimensions?.some((d: any) => refOf(d.Value) === fnId),
    );
    assert.equal(alarms.length, 1);
    assert.deepEqual(alarms[0][1].Properties!.AlarmActions, [{ Ref: topicId }]);
  });
});

describe('checkout alarms and dashboard', () => {
  const [smId] = stateMachineOf(commerce);
  const topicId = ofType(commerce.resources, 'AWS::SNS::Topic')[0][0];
  const alarms = ofType(commerce.resources, 'AWS::CloudWatch::Alarm')
    .map(([, a]) => a.Properties!)
    .filter((a) => a.Namespace === 'AWS/States');

  for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted', 'ExecutionThrottled']) {
    test(`${metric} >= 1 alarms the topic`, () => {
      const found = alarms.filter((a) => a.MetricName === metric);
      assert.equal(found.length, 1);
      const a = found[0];
      assert.equal(a.Threshold, 1);
      assert.equal(a.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
      assert.equal(a.Statistic, 'Sum');
      assert.deepEqual(a.Dimensions, [{ Name: 'StateMachineArn', Value: { Ref: smId } }]);
      assert.deepEqual(a.AlarmActions, [{ Ref: topicId }]);
    });
  }

  test('the dashboard shows the executions, the task errors and every checkout alarm', () => {
    const [, dashboard] = ofType(commerce.rootResources, 'AWS::CloudWatch::Dashboard')[0];
    const body = JSON.stringify(dashboard.Properties!.DashboardBody);
    for (const title of ['Checkout executions', 'Checkout tasks: errors', 'Checkout alarms']) assert.ok(body.includes(title), title);
    for (const { task } of CHECKOUT_TASKS) assert.ok(body.includes(`\\"label\\":\\"${task}\\"`), task);
    // 4 execution alarms + 7 task error alarms + the sweeper's, from the nested stack's outputs.
    const refs = body.match(/"Fn::GetAtt":\["[A-Za-z0-9]*CheckoutSagaNestedStack[A-Za-z0-9]+","Outputs\.[A-Za-z0-9]+Arn"\]/g) ?? [];
    const alarmIds = [...new Set(refs.map((r) => r.replace(/^.*Outputs\.AmazonLiteStackCheckoutSaga/, '').replace(/[0-9A-F]{8}Arn"\]$/, '')))].sort();
    assert.deepEqual(alarmIds, [
      ...['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted', 'ExecutionThrottled'],
      ...CHECKOUT_TASKS.map((t) => `${t.placeholder.replace(/Function$/, 'Task')}Errors`),
      'ReservationSweeperErrors',
    ].sort());
  });
});

describe('checkout resource budget', () => {
  test(`the checkout nested stack and the root stay under ${RESOURCE_BUDGET}`, (t) => {
    const counts = Object.fromEntries(stackTemplates(commerce).map(([name, res]) => [name, Object.keys(res).length]));
    for (const [name, count] of Object.entries(counts)) assert.ok(count <= RESOURCE_BUDGET, `${name}: ${count}`);
    t.diagnostic(`resources per stack: ${JSON.stringify(counts)}`);
    assert.ok(counts['checkout saga'] > 40, 'seven tasks, the state machine and the sweeper are in it');
  });
});
