// Least privilege per function, by the route's `table` level; no Scan
// anywhere. Authentication: the signing key only for the functions that sign
// tokens, the session/key reads for every bearer/admin route, and the
// optional rotation and Google sign-in settings.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  GOOGLE_CLIENT_SECRET_ARN_ENV,
  GOOGLE_FUNCTIONS,
  GOOGLE_SECRET_FUNCTIONS,
  PREVIOUS_SIGNING_SECRET_ENV,
  SIGNING_FUNCTIONS,
  SIGNING_SECRET_ENV,
} from '../lib/auth';
import { loadRoutes } from '../lib/config';
import { FLAG_READ_ACTIONS, FLAG_ROUTES } from '../lib/flags';
import { WEBHOOK_FUNCTIONS } from '../lib/payments';
import { SEARCH_CURSOR_FUNCTIONS } from '../lib/search';
import {
  type CfnResource,
  actionsOf,
  assertAuthenticatedRoutesReadTable,
  ofType,
  refOf,
  roleStatements,
  synth,
  tagOf,
} from './synth';

const WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
];
const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'];

const routes = loadRoutes();
const { resources } = synth();
const signing: readonly string[] = SIGNING_FUNCTIONS;
/** Route functions that read the payment webhook key (checkout.test.ts checks the rest of that wiring). */
const webhook: readonly string[] = WEBHOOK_FUNCTIONS;
/** Route functions that read the cursor key: the table users, and the search routes that sign cursors without a table. */
const readsCursorKey = (route: { function: string; table: string }) =>
  route.table !== 'none' || (SEARCH_CURSOR_FUNCTIONS as readonly string[]).includes(route.function);
const secretIdBySid = (sid: string) => {
  const [secretId] = ofType(resources, 'AWS::SecretsManager::Secret').find(([id]) => id.startsWith(sid)) ?? [];
  assert.ok(secretId, `secret ${sid}`);
  return secretId;
};

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** The function (by its `amazon-lite:function` tag) and every statement of its role's policies. */
function permissionsOf(
  functionName: string,
  res: Record<string, CfnResource> = resources,
): { statements: Statement[]; role: CfnResource; fn: CfnResource } {
  const entry = ofType(res, 'AWS::Lambda::Function').find(([, f]) => tagOf(f, 'amazon-lite:function') === functionName);
  assert.ok(entry, `function ${functionName}`);
  const role = res[refOf(entry[1].Properties!.Role)!];
  return { statements: roleStatements(res, entry[0]), role, fn: entry[1] };
}

function actions(statements: Statement[], prefix: string): string[] {
  return statements.flatMap(actionsOf).filter((a) => a.startsWith(prefix));
}

describe('IAM: least privilege per route function', () => {
  for (const level of ['none', 'read', 'readWrite'] as const) {
    test(`routes.json has a "${level}" route to check`, () => {
      assert.ok(routes.some((r) => r.table === level));
    });
  }

  for (const route of routes) {
    test(`${route.function} (table: ${route.table})`, () => {
      const { statements, role } = permissionsOf(route.function);
      assert.ok(statements.every((s) => s.Effect === 'Allow'));
      assert.ok(!statements.flatMap(actionsOf).some((a) => a === '*' || a.endsWith(':*')), 'no wildcard action');
      // Beyond DynamoDB and secrets, only the search routes' OpenSearch access (search-notifications.test.ts)
      // and the flag readers' AppConfig read (flags.test.ts).
      const others = statements.flatMap(actionsOf).filter((a) => !/^(dynamodb|secretsmanager|xray|states):/.test(a));
      const expectedOthers = [
        ...(route.service === 'search' ? ['aoss:APIAccessAll'] : []),
        ...(FLAG_ROUTES.includes(`${route.method} ${route.path}`) ? [...FLAG_READ_ACTIONS] : []),
      ];
      assert.deepEqual(others.sort(), expectedOthers.sort(), 'no other service');
      const dynamo = actions(statements, 'dynamodb:');
      const secrets = actions(statements, 'secretsmanager:');
      // The cursor key for table users; the signing functions also read the
      // signing key, the webhook route the payment webhook key.
      const expectedSecrets =
        (readsCursorKey(route) ? 1 : 0) + (signing.includes(route.function) ? 1 : 0) + (webhook.includes(route.function) ? 1 : 0);
      assert.ok(!dynamo.includes('dynamodb:Scan'), 'never Scan');

      // Only the basic execution policy is attached (logs); nothing broad.
      assert.deepEqual(
        JSON.stringify(role.Properties!.ManagedPolicyArns ?? []).match(/policy\/[\w/-]+/g),
        ['policy/service-role/AWSLambdaBasicExecutionRole'],
      );

      switch (route.table) {
        case 'none':
          // A bearer/admin route reads its session and the signing keys.
          assert.deepEqual(dynamo, route.auth === 'public' ? [] : ['dynamodb:GetItem'], 'no DynamoDB action beyond authentication');
          break;
        case 'read':
          assert.deepEqual([...new Set(dynamo)].sort(), [...READ_ACTIONS].sort());
          assert.deepEqual(
            dynamo.filter((a) => WRITE_ACTIONS.includes(a)),
            [],
            'no write action',
          );
          break;
        case 'readWrite':
          assert.deepEqual([...new Set(dynamo)].sort(), [...READ_ACTIONS, ...WRITE_ACTIONS].sort());
          break;
      }
      assert.deepEqual(secrets, Array(expectedSecrets).fill('secretsmanager:GetSecretValue'), 'GetSecretValue per key read');

      // DynamoDB statements name the table or its indexes, never "*".
      for (const s of statements.filter((st) => actionsOf(st).some((a) => a.startsWith('dynamodb:')))) {
        const text = JSON.stringify(s.Resource);
        assert.ok(text !== '"*"' && text.includes('Table'), `scoped resource: ${text}`);
      }
      // Each secret statement names one of the stack's secrets: the cursor key, or the signing key for signing functions.
      const allowedSecrets = [
        ...(readsCursorKey(route) ? [secretIdBySid('CursorKey')] : []),
        ...(signing.includes(route.function) ? [secretIdBySid('AuthSigningKey')] : []),
        ...(webhook.includes(route.function) ? [secretIdBySid('PaymentWebhookSecret')] : []),
      ];
      const named = statements.filter((st) => actionsOf(st).some((a) => a.startsWith('secretsmanager:'))).map((st) => refOf(st.Resource));
      assert.deepEqual(named.sort(), allowedSecrets.sort());
    });
  }

  test('no bearer/admin route function lacks table read (session check, signing key lookup)', () => {
    assertAuthenticatedRoutesReadTable(resources, routes);
  });

  test('no statement in the whole template allows Scan', () => {
    const text = JSON.stringify(resources);
    assert.ok(!text.includes('dynamodb:Scan'));
    assert.ok(!text.includes('"dynamodb:*"'));
  });
});

describe('auth: token signing key', () => {
  const signingId = secretIdBySid('AuthSigningKey');

  test('routes.json has every signing and Google function', () => {
    for (const f of [...SIGNING_FUNCTIONS, ...GOOGLE_FUNCTIONS]) assert.ok(routes.some((r) => r.function === f), f);
  });

  test('a generated secret: 64 characters, no punctuation', () => {
    const p = resources[signingId].Properties!.GenerateSecretString;
    assert.equal(p.PasswordLength, 64);
    assert.equal(p.ExcludePunctuation, true);
    assert.equal(p.IncludeSpace, false);
  });

  for (const route of routes) {
    const signs = signing.includes(route.function);
    test(`${route.function}: ${signs ? 'reads' : 'never reads'} the signing key`, () => {
      const { statements, fn } = permissionsOf(route.function);
      const env = fn.Properties!.Environment.Variables;
      const reads = statements.filter((s) => refOf(s.Resource) === signingId);
      if (signs) {
        assert.equal(refOf(env[SIGNING_SECRET_ENV]), signingId);
        assert.equal(reads.length, 1);
        assert.deepEqual(actionsOf(reads[0]), ['secretsmanager:GetSecretValue']);
      } else {
        assert.equal(env[SIGNING_SECRET_ENV], undefined);
        assert.deepEqual(reads, []);
      }
      // Nothing of rotation or Google unless configured.
      for (const name of [PREVIOUS_SIGNING_SECRET_ENV, GOOGLE_CLIENT_SECRET_ARN_ENV, 'GOOGLE_CLIENT_ID', 'GOOGLE_CLIENT_SECRET', 'GOOGLE_REDIRECT_URI', 'GOOGLE_ISSUER']) {
        assert.equal(env[name], undefined, name);
      }
    });
  }
});

describe('auth: rotation and Google sign-in (configured)', () => {
  const previous = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:amazon-lite/previous-signing-key-AbC123';
  const google = {
    clientId: 'client-1.apps.googleusercontent.com',
    redirectUri: 'https://api.example.com/v1/auth/google/callback',
    clientSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:amazon-lite/google-client-Xy9z00',
  };
  const configured = synth({ previousSigningSecretArn: previous, google }).resources;

  for (const route of routes.filter((r) => r.service === 'auth')) {
    test(`${route.function}: environment and secret reads`, () => {
      const { statements, fn } = permissionsOf(route.function, configured);
      const env = fn.Properties!.Environment.Variables;
      const secretReads = statements.filter((s) => actionsOf(s).includes('secretsmanager:GetSecretValue')).map((s) => s.Resource);
      const isSigning = signing.includes(route.function);
      const isGoogle = (GOOGLE_FUNCTIONS as readonly string[]).includes(route.function);
      const readsGoogleSecret = (GOOGLE_SECRET_FUNCTIONS as readonly string[]).includes(route.function);

      assert.equal(env[PREVIOUS_SIGNING_SECRET_ENV], isSigning ? previous : undefined);
      assert.equal(secretReads.includes(previous), isSigning, 'reads the previous key iff it signs');
      assert.equal(env.GOOGLE_CLIENT_ID, isGoogle ? google.clientId : undefined);
      assert.equal(env.GOOGLE_REDIRECT_URI, isGoogle ? google.redirectUri : undefined);
      assert.equal(env.GOOGLE_ISSUER, isGoogle ? 'https://accounts.google.com' : undefined);
      assert.equal(env[GOOGLE_CLIENT_SECRET_ARN_ENV], isGoogle ? google.clientSecretArn : undefined);
      assert.equal(secretReads.includes(google.clientSecretArn), readsGoogleSecret, 'only the callback reads the client secret');
      // The client secret's value never goes into the environment or the template.
      assert.equal(env.GOOGLE_CLIENT_SECRET, undefined);
    });
  }

  test('no dynamic reference to a secret anywhere (no secret value in a function configuration)', () => {
    assert.ok(!JSON.stringify(configured).includes('{{resolve:secretsmanager'));
  });

  test('settings are validated', () => {
    const bad = (props: Parameters<typeof synth>[0], message: RegExp) => assert.throws(() => synth(props), message);
    bad({ previousSigningSecretArn: 'my-old-key' }, /previousSigningSecretArn: "my-old-key" is not a complete Secrets Manager secret ARN/);
    bad({ google: { ...google, clientSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:google' } }, /googleClientSecretArn/);
    bad({ google: { ...google, clientId: '' } }, /clientId is required/);
    bad({ google: { ...google, redirectUri: 'http://api.example.com/cb' } }, /must be https/);
  });

  test('routes.json without a signing function of the auth service fails the synth', () => {
    assert.throws(
      () => synth({ routes: routes.filter((r) => r.function !== 'auth-refresh') }),
      /the auth service has no function auth-refresh/,
    );
  });
});
