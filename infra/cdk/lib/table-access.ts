// Least-privilege DynamoDB permissions, by the `table` field of a route.
//
// Explicit statements instead of table.grantReadData()/grantReadWriteData():
// those also grant Scan, DescribeTable and the stream actions, and no request
// path may Scan (DESIGN.md). What each level allows and why:
//   none      nothing.
//   read      GetItem, BatchGetItem (TransactGetItems is authorized by GetItem)
//             on the table, Query on the table and its indexes.
//   readWrite read, plus PutItem, UpdateItem, DeleteItem, BatchWriteItem and
//             ConditionCheckItem on the table. TransactWriteItems has no
//             action of its own: it is authorized per contained operation, so
//             these cover transactions (uniqueness guards use
//             ConditionCheckItem, which is why only writers get it).
// Never Scan, never table/stream administration.
//
// Authentication reads the table too: every `bearer`/`admin` request checks
// its session (GetItem, strongly consistent, on `SESSION#`) and may look up
// a signing key it has not seen yet (GetItem on `SIGNKEY#`). `read` and
// `readWrite` include GetItem; a `bearer`/`admin` route whose level is
// `none` gets GetItem alone (`authStatements`).
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { RouteSpec, TableAccess } from './config';

export const READ_ITEM_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'] as const;
/** What verifying a bearer token reads: the session and, for an unknown kid, the published key. */
export const AUTH_READ_ACTIONS = ['dynamodb:GetItem'] as const;
export const INDEX_ACTIONS = ['dynamodb:Query'] as const;
export const WRITE_ITEM_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
] as const;
/** Every item action of `readWrite`, for functions that are not routes (saga tasks, sweeper). */
export const ITEM_ACTIONS = [...READ_ITEM_ACTIONS, ...WRITE_ITEM_ACTIONS] as const;

/** The policy statements that give `access` to `table` (empty for `none`). */
export function tableAccessStatements(table: dynamodb.ITable, access: TableAccess): iam.PolicyStatement[] {
  if (access === 'none') return [];
  const itemActions: string[] =
    access === 'readWrite' ? [...READ_ITEM_ACTIONS, ...WRITE_ITEM_ACTIONS] : [...READ_ITEM_ACTIONS];
  return [
    new iam.PolicyStatement({
      sid: access === 'readWrite' ? 'TableReadWrite' : 'TableRead',
      actions: itemActions,
      resources: [table.tableArn],
    }),
    new iam.PolicyStatement({
      sid: 'TableIndexQuery',
      actions: [...INDEX_ACTIONS],
      resources: [`${table.tableArn}/index/*`],
    }),
  ];
}

/** GetItem on the table for a `bearer`/`admin` route whose own level (`none`) has no read (see above). */
export function authStatements(table: dynamodb.ITable, route: Pick<RouteSpec, 'auth' | 'table'>): iam.PolicyStatement[] {
  if (route.auth === 'public' || route.table !== 'none') return [];
  return [
    new iam.PolicyStatement({
      sid: 'AuthSessionRead',
      actions: [...AUTH_READ_ACTIONS],
      resources: [table.tableArn],
    }),
  ];
}
