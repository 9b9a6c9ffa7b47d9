// The deployed table is the one infra/table.json describes (the Rust
// emulator test builds its table from the same file).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, test } from 'node:test';
import { RemovalPolicy } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { TABLE_FILE } from '../lib/config';
import { ENVIRONMENTS } from '../lib/environments';
import { ofType, synth } from './synth';

const spec = JSON.parse(fs.readFileSync(TABLE_FILE, 'utf-8'));
const { template, resources } = synth();

describe('single table (infra/table.json)', () => {
  const tables = ofType(resources, 'AWS::DynamoDB::Table');

  test('is the only table', () => {
    assert.equal(tables.length, 1);
  });

  const [, table] = tables[0];
  const props = table.Properties!;

  test('key schema is PK/SK strings', () => {
    assert.deepEqual(props.KeySchema, [
      { AttributeName: spec.partitionKey, KeyType: 'HASH' },
      { AttributeName: spec.sortKey, KeyType: 'RANGE' },
    ]);
  });

  test('every key attribute is a string', () => {
    const keys = [
      spec.partitionKey,
      spec.sortKey,
      ...spec.globalSecondaryIndexes.flatMap((g: any) => [g.partitionKey, g.sortKey]),
    ];
    assert.deepEqual(
      [...props.AttributeDefinitions].sort((a: any, b: any) => a.AttributeName.localeCompare(b.AttributeName)),
      [...new Set(keys)].sort().map((name) => ({ AttributeName: name, AttributeType: 'S' })),
    );
  });

  test('both GSIs with their keys and projection ALL', () => {
    assert.equal(spec.globalSecondaryIndexes.length, 2);
    assert.deepEqual(
      props.GlobalSecondaryIndexes,
      spec.globalSecondaryIndexes.map((g: any) => ({
        IndexName: g.indexName,
        KeySchema: [
          { AttributeName: g.partitionKey, KeyType: 'HASH' },
          { AttributeName: g.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    );
  });

  test('TTL attribute', () => {
    assert.deepEqual(props.TimeToLiveSpecification, { AttributeName: spec.timeToLiveAttribute, Enabled: true });
  });

  test('stream view type', () => {
    assert.deepEqual(props.StreamSpecification, { StreamViewType: spec.stream });
  });

  // The default environment (dev); prod's protection: environments-synth.test.ts.
  test("point-in-time recovery, on-demand billing, the environment's deletion protection", () => {
    assert.deepEqual(props.PointInTimeRecoverySpecification, { PointInTimeRecoveryEnabled: ENVIRONMENTS.dev.pointInTimeRecovery });
    assert.equal(props.BillingMode, 'PAY_PER_REQUEST');
    assert.equal(props.DeletionProtectionEnabled, ENVIRONMENTS.dev.tableDeletionProtection);
  });

  test("the environment's removal policy on stack delete and replacement", () => {
    const policy = ENVIRONMENTS.dev.tableRemovalPolicy === RemovalPolicy.RETAIN ? 'Retain' : 'Delete';
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: policy,
      UpdateReplacePolicy: policy,
      Properties: Match.anyValue(),
    });
  });

  test('its name is an output', () => {
    template.hasOutput('TableName', { Value: { Ref: tables[0][0] } });
  });
});
