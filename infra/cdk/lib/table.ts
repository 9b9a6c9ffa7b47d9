// The single table, shaped by infra/table.json (shared with the Rust side).
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import type { TableSpec } from './config';

const STREAM: Record<TableSpec['stream'], dynamodb.StreamViewType> = {
  NEW_IMAGE: dynamodb.StreamViewType.NEW_IMAGE,
  OLD_IMAGE: dynamodb.StreamViewType.OLD_IMAGE,
  NEW_AND_OLD_IMAGES: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
  KEYS_ONLY: dynamodb.StreamViewType.KEYS_ONLY,
};

/** What guards the table's data (environments.ts: prod keeps it whatever happens, dev may drop it). */
export interface TableProtection {
  readonly deletionProtection: boolean;
  readonly pointInTimeRecovery: boolean;
  readonly removalPolicy: RemovalPolicy;
}

/** The table holds every customer's data: by default a stack delete or a replacement never takes it along. */
export const FULL_PROTECTION: TableProtection = { deletionProtection: true, pointInTimeRecovery: true, removalPolicy: RemovalPolicy.RETAIN };

export function createSingleTable(scope: Construct, id: string, spec: TableSpec, protection: TableProtection = FULL_PROTECTION): dynamodb.Table {
  const table = new dynamodb.Table(scope, id, {
    // No physical name: CloudFormation names it, functions get TABLE_NAME.
    partitionKey: { name: spec.partitionKey, type: dynamodb.AttributeType.STRING },
    sortKey: { name: spec.sortKey, type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: protection.pointInTimeRecovery },
    stream: STREAM[spec.stream],
    timeToLiveAttribute: spec.timeToLiveAttribute,
    deletionProtection: protection.deletionProtection,
    removalPolicy: protection.removalPolicy,
  });
  for (const gsi of spec.globalSecondaryIndexes) {
    table.addGlobalSecondaryIndex({
      indexName: gsi.indexName,
      partitionKey: { name: gsi.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: gsi.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }
  return table;
}
