// The events backbone: bus + archive, the outbox relay on the table stream,
// and one rule -> queue (+ DLQ) -> function per consumer of
// infra/consumers.json; every DLQ alarms.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ConsumerSpec, loadConsumers, loadRoutes } from '../lib/config';
import { CONSUMER_ENV, EVENT_BUS_NAME, MAX_RECEIVE_COUNT, RELAY_FUNCTION } from '../lib/events';
import { type CfnResource, actionsOf, functionsOfKind, ofType, refOf, roleStatements, synth, tagOf } from './synth';

const consumers = loadConsumers();
// The events backbone is in the root stack; `resources` also holds the
// services' nested stacks (route functions), which some counts below exclude.
const { resources, rootResources } = synth();

function functionNamed(res: Record<string, CfnResource>, name: string): [string, CfnResource] {
  const found = ofType(res, 'AWS::Lambda::Function').find(([, f]) => tagOf(f, 'amazon-lite:function') === name);
  assert.ok(found, `function ${name}`);
  return found;
}

/** Rules on the bus (event patterns); the reservation sweeper's schedule rule (checkout.test.ts) is not one. */
function busRules(res: Record<string, CfnResource>): [string, CfnResource][] {
  return ofType(res, 'AWS::Events::Rule').filter(([, r]) => r.Properties!.ScheduleExpression === undefined);
}

/** Every statement of the role of function `id`. */
const statementsOf = roleStatements;

function mappingsOf(res: Record<string, CfnResource>, functionId: string): CfnResource[] {
  return ofType(res, 'AWS::Lambda::EventSourceMapping')
    .filter(([, m]) => refOf(m.Properties!.FunctionName) === functionId)
    .map(([, m]) => m);
}

/** The queue that `queueId`'s redrive policy sends to, and after how many receives. */
function redriveOf(queue: CfnResource): { dlqId: string; maxReceiveCount: number } | undefined {
  const policy = queue.Properties!.RedrivePolicy;
  return policy ? { dlqId: refOf(policy.deadLetterTargetArn)!, maxReceiveCount: policy.maxReceiveCount } : undefined;
}

/** Checks one consumer's wiring in a template; returns its queue id. */
function assertConsumer(res: Record<string, CfnResource>, spec: ConsumerSpec): string {
  const [fnId, fn] = functionNamed(res, spec.name);
  assert.equal(tagOf(fn, 'amazon-lite:kind'), 'consumer');
  assert.equal(tagOf(fn, 'amazon-lite:service'), spec.service);
  assert.equal(res[refOf(fn.Properties!.Environment.Variables.TABLE_NAME)!].Type, 'AWS::DynamoDB::Table');
  // Its service's binary, told which of its consumers to run.
  assert.equal(fn.Properties!.Environment.Variables[CONSUMER_ENV], spec.name);

  // SQS event source with partial batch responses.
  const mappings = mappingsOf(res, fnId);
  assert.equal(mappings.length, 1, `${spec.name}: one event source mapping`);
  const esm = mappings[0].Properties!;
  assert.deepEqual(esm.FunctionResponseTypes, ['ReportBatchItemFailures']);
  const queueId = refOf(esm.EventSourceArn)!;
  const queue = res[queueId];
  assert.equal(queue.Type, 'AWS::SQS::Queue');

  // Its DLQ: 5 receives, kept 14 days; visibility >= 6 x timeout.
  const redrive = redriveOf(queue);
  assert.ok(redrive, `${spec.name}: queue has a redrive policy`);
  assert.equal(redrive.maxReceiveCount, MAX_RECEIVE_COUNT);
  assert.equal(res[redrive.dlqId].Type, 'AWS::SQS::Queue');
  assert.equal(res[redrive.dlqId].Properties!.MessageRetentionPeriod, 14 * 24 * 3600);
  assert.ok(queue.Properties!.VisibilityTimeout >= 6 * fn.Properties!.Timeout, 'visibility timeout >= 6 x function timeout');

  // A rule on the bus, matching exactly its detail-types, targeting the queue.
  const rules = ofType(res, 'AWS::Events::Rule').filter(([, r]) =>
    (r.Properties!.Targets ?? []).some((t: any) => refOf(t.Arn) === queueId),
  );
  assert.equal(rules.length, 1, `${spec.name}: one rule targets its queue`);
  const rule = rules[0][1].Properties!;
  assert.equal(res[refOf(rule.EventBusName)!].Properties!.Name, EVENT_BUS_NAME);
  assert.deepEqual(rule.EventPattern, { 'detail-type': spec.detailTypes });
  assert.equal(rule.State, 'ENABLED');
  // EventBridge may send to the queue (the queue policy), scoped to the rule.
  const policies = ofType(res, 'AWS::SQS::QueuePolicy').filter(([, p]) => p.Properties!.Queues.some((q: unknown) => refOf(q) === queueId));
  const statements = policies.flatMap(([, p]) => p.Properties!.PolicyDocument.Statement);
  assert.ok(
    statements.some(
      (s: any) => s.Effect === 'Allow' && s.Principal?.Service === 'events.amazonaws.com' && actionsOf(s).includes('sqs:SendMessage'),
    ),
    `${spec.name}: events.amazonaws.com may send to the queue`,
  );

  // Least privilege: the table (no Scan), its own queue only.
  const allowed = statementsOf(res, fnId);
  const dynamo = allowed.flatMap(actionsOf).filter((a: string) => a.startsWith('dynamodb:'));
  for (const a of ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']) {
    assert.ok(dynamo.includes(a), `${spec.name}: ${a} (idempotency records)`);
  }
  assert.ok(!dynamo.includes('dynamodb:Scan'));
  for (const s of allowed.filter((st: any) => actionsOf(st).some((a: string) => a.startsWith('sqs:')))) {
    assert.equal(refOf(s.Resource), queueId, `${spec.name}: SQS statements name its queue only`);
  }
  return queueId;
}

describe('event bus', () => {
  test('the whole backbone is in the root stack (not in a service nested stack)', () => {
    for (const type of ['AWS::Events::EventBus', 'AWS::Events::Archive', 'AWS::SQS::Queue', 'AWS::Lambda::EventSourceMapping']) {
      assert.deepEqual(ofType(rootResources, type), ofType(resources, type), type);
    }
    assert.deepEqual(busRules(rootResources), busRules(resources), 'bus rules');
    assert.equal(functionsOfKind(rootResources, 'relay').length, 1);
    assert.equal(functionsOfKind(rootResources, 'consumer').length, consumers.length);
  });

  test(`one custom bus named ${EVENT_BUS_NAME}`, () => {
    const buses = ofType(resources, 'AWS::Events::EventBus');
    assert.equal(buses.length, 1);
    assert.equal(buses[0][1].Properties!.Name, EVENT_BUS_NAME);
  });

  test('an archive of the bus for replay (30 days)', () => {
    const archives = ofType(resources, 'AWS::Events::Archive');
    assert.equal(archives.length, 1);
    const p = archives[0][1].Properties!;
    assert.equal(refOf(p.SourceArn), ofType(resources, 'AWS::Events::EventBus')[0][0]);
    assert.equal(p.RetentionDays, 30);
    assert.ok(p.EventPattern, 'an archive needs a pattern');
  });
});

describe('outbox relay', () => {
  const [relayId, relay] = functionNamed(resources, RELAY_FUNCTION);
  const tableId = ofType(resources, 'AWS::DynamoDB::Table')[0][0];
  const busId = ofType(resources, 'AWS::Events::EventBus')[0][0];
  const mappings = mappingsOf(resources, relayId);

  test('runs the relay binary with the table and the bus name', () => {
    assert.equal(tagOf(relay, 'amazon-lite:kind'), 'relay');
    assert.equal(tagOf(relay, 'amazon-lite:service'), 'relay');
    const p = relay.Properties!;
    assert.equal(p.Runtime, 'provided.al2023');
    assert.deepEqual(p.Architectures, ['arm64']);
    assert.deepEqual(p.TracingConfig, { Mode: 'Active' });
    assert.equal(refOf(p.Environment.Variables.TABLE_NAME), tableId);
    assert.equal(refOf(p.Environment.Variables.EVENT_BUS_NAME), busId);
  });

  test('reads the table stream: outbox INSERTs only, from TRIM_HORIZON, partial batch failures', () => {
    assert.equal(mappings.length, 1);
    const p = mappings[0].Properties!;
    assert.deepEqual(p.EventSourceArn, { 'Fn::GetAtt': [tableId, 'StreamArn'] });
    assert.equal(p.StartingPosition, 'TRIM_HORIZON');
    assert.ok(p.BatchSize >= 1 && p.BatchSize <= 100, `batch size ${p.BatchSize}`);
    assert.equal(p.BisectBatchOnFunctionError, true);
    assert.deepEqual(p.FunctionResponseTypes, ['ReportBatchItemFailures']);
    assert.ok(p.MaximumRetryAttempts > 0);
    assert.equal(p.ParallelizationFactor, 1, 'in order per shard');
    assert.equal(p.FilterCriteria.Filters.length, 1);
    assert.deepEqual(JSON.parse(p.FilterCriteria.Filters[0].Pattern), {
      eventName: ['INSERT'],
      dynamodb: { NewImage: { PK: { S: [{ prefix: 'OUTBOX#' }] } } },
    });
  });

  test('sends failed batches to its DLQ', () => {
    const dest = mappings[0].Properties!.DestinationConfig.OnFailure.Destination;
    const dlq = resources[refOf(dest)!];
    assert.equal(dlq.Type, 'AWS::SQS::Queue');
    assert.equal(dlq.Properties!.MessageRetentionPeriod, 14 * 24 * 3600);
  });

  test('may put events on the bus, mark outbox items and read the stream; nothing else on the table', () => {
    const statements = statementsOf(resources, relayId);
    const put = statements.filter((s: any) => actionsOf(s).includes('events:PutEvents'));
    assert.equal(put.length, 1);
    assert.equal(refOf(put[0].Resource), busId);
    const dynamo = [...new Set(statements.flatMap(actionsOf).filter((a: string) => a.startsWith('dynamodb:')))].sort();
    assert.deepEqual(dynamo, [
      'dynamodb:DescribeStream',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
      'dynamodb:ListStreams',
      'dynamodb:UpdateItem',
    ]);
    const update = statements.find((s: any) => actionsOf(s).includes('dynamodb:UpdateItem'));
    assert.equal(refOf(update.Resource), tableId);
  });
});

describe('consumers (infra/consumers.json)', () => {
  test('consumers.json lists at least one consumer', () => {
    assert.ok(consumers.length > 0);
  });

  for (const spec of consumers) {
    test(`${spec.name}: rule (${spec.detailTypes.join(', ')}) -> queue -> DLQ, function with partial batch failures`, () => {
      assertConsumer(resources, spec);
    });
  }

  test('one rule, queue + DLQ and SQS event source per consumer, and nothing more', () => {
    assert.equal(busRules(resources).length, consumers.length);
    // Besides them, only the reservation sweeper's schedule (default bus).
    const schedules = ofType(resources, 'AWS::Events::Rule').filter(([, r]) => r.Properties!.ScheduleExpression !== undefined);
    assert.equal(schedules.length, 1);
    assert.equal(schedules[0][1].Properties!.EventBusName, undefined);
    assert.equal(functionsOfKind(resources, 'consumer').length, consumers.length);
    const queues = ofType(resources, 'AWS::SQS::Queue');
    // consumer queue + DLQ each, and the relay's DLQ
    assert.equal(queues.length, 2 * consumers.length + 1);
  });

  test('any number of consumers, several per service (synthetic consumers)', () => {
    const many: ConsumerSpec[] = [
      { name: 'alpha-one', service: 'alpha', binary: 'alpha', detailTypes: ['thing.created.v1'] },
      { name: 'alpha-two', service: 'alpha', binary: 'alpha', detailTypes: ['thing.created.v1', 'thing.deleted.v2'] },
      { name: 'alpha-three', service: 'alpha', binary: 'alpha', detailTypes: ['other.happened.v1'] },
    ];
    const synthetic = synth({ consumers: many });
    const queueIds = many.map((spec) => assertConsumer(synthetic.resources, spec));
    assert.equal(new Set(queueIds).size, many.length, 'a queue each');
    assert.equal(busRules(synthetic.resources).length, many.length);

    const none = synth({ consumers: [] });
    assert.equal(busRules(none.resources).length, 0);
    assert.equal(ofType(none.resources, 'AWS::SQS::Queue').length, 1, 'the relay DLQ only');
  });

  test('a consumer may not take a route function name', () => {
    const route = loadRoutes()[0];
    assert.throws(
      () => synth({ consumers: [{ name: route.function, service: route.service, binary: 'x', detailTypes: ['a.b.v1'] }] }),
      /a function of that name exists already/,
    );
  });
});

describe('dead-letter queues', () => {
  const topicId = ofType(resources, 'AWS::SNS::Topic')[0][0];
  const alarms = ofType(resources, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties!);
  const redriveTargets = ofType(resources, 'AWS::SQS::Queue').flatMap(([, q]) => {
    const r = redriveOf(q);
    return r ? [r.dlqId] : [];
  });
  const relayDlq = refOf(mappingsOf(resources, functionNamed(resources, RELAY_FUNCTION)[0])[0].Properties!.DestinationConfig.OnFailure.Destination)!;
  const dlqs = [...new Set([...redriveTargets, relayDlq])];

  test('every consumer DLQ and the relay DLQ are known', () => {
    assert.equal(dlqs.length, consumers.length + 1);
  });

  for (const [i, dlqId] of dlqs.entries()) {
    test(`DLQ ${i + 1}: alarm on ApproximateNumberOfMessagesVisible > 0, notifying the topic`, () => {
      const found = alarms.filter(
        (a) =>
          a.Namespace === 'AWS/SQS' &&
          a.MetricName === 'ApproximateNumberOfMessagesVisible' &&
          a.Dimensions.some((d: any) => d.Name === 'QueueName' && refOf(d.Value) === dlqId),
      );
      assert.equal(found.length, 1, `alarm for ${dlqId}`);
      assert.equal(found[0].Threshold, 0);
      assert.equal(found[0].ComparisonOperator, 'GreaterThanThreshold');
      assert.deepEqual(found[0].AlarmActions, [{ Ref: topicId }]);
    });
  }

  test('the relay has an iterator age alarm', () => {
    assert.ok(alarms.some((a) => a.Namespace === 'AWS/Lambda' && a.MetricName === 'IteratorAge'));
  });

  test('queues are encrypted and refuse plain HTTP', () => {
    for (const [id, q] of ofType(resources, 'AWS::SQS::Queue')) {
      assert.equal(q.Properties!.SqsManagedSseEnabled, true, id);
      const policy = ofType(resources, 'AWS::SQS::QueuePolicy').find(([, p]) => p.Properties!.Queues.some((r: unknown) => refOf(r) === id));
      assert.ok(policy, `${id} has a queue policy`);
      assert.ok(
        policy[1].Properties!.PolicyDocument.Statement.some(
          (s: any) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false',
        ),
        `${id} denies insecure transport`,
      );
    }
  });
});
