// Least privilege per function, by the route's `table` level; no Scan anywhere.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadRoutes } from '../lib/config';
import { type CfnResource, actionsOf, ofType, refOf, synth } from './synth';

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

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** The function (by its `amazon-lite:function` tag) and every statement of its role's policies. */
function permissionsOf(functionName: string): { statements: Statement[]; role: CfnResource } {
  const entry = ofType(resources, 'AWS::Lambda::Function').find(([, f]) =>
    (f.Properties!.Tags ?? []).some((t: any) => t.Key === 'amazon-lite:function' && t.Value === functionName),
  );
  assert.ok(entry, `function ${functionName}`);
  const roleId = refOf(entry[1].Properties!.Role)!;
  const role = resources[roleId];
  const inline = (role.Properties!.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement);
  const attached = ofType(resources, 'AWS::IAM::Policy')
    .filter(([, p]) => p.Properties!.Roles.some((r: unknown) => refOf(r) === roleId))
    .flatMap(([, p]) => p.Properties!.PolicyDocument.Statement);
  return { statements: [...inline, ...attached], role };
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
      const dynamo = actions(statements, 'dynamodb:');
      const secrets = actions(statements, 'secretsmanager:');
      assert.ok(!dynamo.includes('dynamodb:Scan'), 'never Scan');

      // Only the basic execution policy is attached (logs); nothing broad.
      assert.deepEqual(
        JSON.stringify(role.Properties!.ManagedPolicyArns ?? []).match(/policy\/[\w/-]+/g),
        ['policy/service-role/AWSLambdaBasicExecutionRole'],
      );

      switch (route.table) {
        case 'none':
          assert.deepEqual(dynamo, [], 'no DynamoDB action');
          assert.deepEqual(secrets, [], 'no secret');
          break;
        case 'read':
          assert.deepEqual([...new Set(dynamo)].sort(), [...READ_ACTIONS].sort());
          assert.deepEqual(
            dynamo.filter((a) => WRITE_ACTIONS.includes(a)),
            [],
            'no write action',
          );
          assert.deepEqual(secrets, ['secretsmanager:GetSecretValue']);
          break;
        case 'readWrite':
          assert.deepEqual([...new Set(dynamo)].sort(), [...READ_ACTIONS, ...WRITE_ACTIONS].sort());
          assert.deepEqual(secrets, ['secretsmanager:GetSecretValue']);
          break;
      }

      // DynamoDB statements name the table or its indexes, never "*".
      for (const s of statements.filter((st) => actionsOf(st).some((a) => a.startsWith('dynamodb:')))) {
        const text = JSON.stringify(s.Resource);
        assert.ok(text !== '"*"' && text.includes('Table'), `scoped resource: ${text}`);
      }
      // The cursor secret statement names that secret only.
      for (const s of statements.filter((st) => actionsOf(st).some((a) => a.startsWith('secretsmanager:')))) {
        assert.equal(resources[refOf(s.Resource)!].Type, 'AWS::SecretsManager::Secret');
      }
    });
  }

  test('no statement in the whole template allows Scan', () => {
    const text = JSON.stringify(resources);
    assert.ok(!text.includes('dynamodb:Scan'));
    assert.ok(!text.includes('"dynamodb:*"'));
  });
});
