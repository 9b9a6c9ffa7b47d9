// The events backbone (DESIGN.md "Events"; Rust side: shared/events-aws).
//
//   table stream ──(INSERT, PK prefix OUTBOX#)──► relay ──PutEvents──► bus `amazon-lite` (+ archive)
//                                                   │ on failure: relay DLQ        │ one rule per consumer
//                                                                                  ▼ (its detail-types)
//                                         consumer queue ──(5 receives)──► consumer DLQ
//                                              │ SQS event source, partial batch responses
//                                              ▼
//                                        consumer function (its service's binary, AMAZON_LITE_CONSUMER=<name>)
//
// Every DLQ has an alarm on ApproximateNumberOfMessagesVisible > 0, and the
// relay one on its stream iterator age. Consumers come from
// infra/consumers.json: any number, each with its own queue, DLQ, rule and
// function. A consumer's function runs its service's one binary (the one its
// route functions run) with AMAZON_LITE_CONSUMER set to the consumer's name,
// which makes the binary run that consumer on SQS instead of serving routes
// (shared/lambda `lite_lambda::run`); the relay is functions/relay.
import { CfnOutput, Duration, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ConsumerSpec } from './config';
import { tableAccessStatements } from './table-access';
import { type FunctionWiring, NO_WIRING } from './wiring';

export const EVENT_BUS_NAME = 'amazon-lite';
export const RELAY_FUNCTION = 'events-relay';
/** Receives before SQS moves a message to the consumer's DLQ. */
export const MAX_RECEIVE_COUNT = 5;
/** SQS: the visibility timeout should be at least 6 x the function timeout (AWS guidance for Lambda consumers). */
export const VISIBILITY_PER_TIMEOUT = 6;
export const OUTBOX_PREFIX = 'OUTBOX#';
/** Names the consumer a service binary runs (`lite_lambda::CONSUMER_ENV`). */
export const CONSUMER_ENV = 'AMAZON_LITE_CONSUMER';

/** Values of the `amazon-lite:kind` tag on every function. */
export type FunctionKind = 'route' | 'relay' | 'consumer' | 'bootstrap' | 'task' | 'scheduled';
export const KIND_TAG = 'amazon-lite:kind';

export interface EventsBackboneProps {
  readonly table: dynamodb.Table;
  readonly consumers: readonly ConsumerSpec[];
  /** The code asset of a crate's binary (built once, shared by its functions). */
  readonly code: (service: string, binary: string) => lambda.Code;
  readonly architecture: lambda.Architecture;
  readonly memorySize: number;
  readonly logRetention: logs.RetentionDays;
  readonly alarmTopic: sns.ITopic;
  /** Relay and consumer timeout. Default 30 s (the idempotency lease is 60 s, so a handler never outlives it). */
  readonly timeout?: Duration;
  /** Days the bus archive keeps events for replay. Default 30. */
  readonly archiveRetentionDays?: number;
  /** A consumer's extra variables and grants (payments.ts). Default none. */
  readonly consumerWiring?: (spec: ConsumerSpec) => FunctionWiring;
  /** The bus's name, unique in the account and region (environments.ts). Default EVENT_BUS_NAME. */
  readonly busName?: string;
}

/** One consumer's pieces. */
export interface Consumer {
  readonly spec: ConsumerSpec;
  readonly queue: sqs.Queue;
  readonly dlq: sqs.Queue;
  readonly rule: events.Rule;
  readonly function: lambda.Function;
  readonly dlqAlarm: cloudwatch.Alarm;
}

export class EventsBackbone extends Construct {
  readonly bus: events.EventBus;
  readonly archive: events.Archive;
  readonly relay: lambda.Function;
  readonly relayDlq: sqs.Queue;
  readonly consumers: Consumer[] = [];
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: EventsBackboneProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.seconds(30);
    const action = new cw_actions.SnsAction(props.alarmTopic);
    const alarm = (owner: Construct, alarmId: string, alarmProps: cloudwatch.AlarmProps): cloudwatch.Alarm => {
      const a = new cloudwatch.Alarm(owner, alarmId, alarmProps);
      a.addAlarmAction(action);
      a.addOkAction(action);
      this.alarms.push(a);
      return a;
    };
    const dlqAlarm = (owner: Construct, queue: sqs.Queue, what: string) =>
      alarm(owner, 'DlqNotEmpty', {
        alarmDescription: `${what}: messages in the dead-letter queue (inspect and redrive: events-ops dlq list|redrive)`,
        metric: queue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    const fn = (owner: Construct, kind: FunctionKind, name: string, service: string, binary: string, description: string, environment: Record<string, string>) => {
      const logGroup = new logs.LogGroup(owner, 'Logs', {
        retention: props.logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const f = new lambda.Function(owner, 'Function', {
        description,
        runtime: lambda.Runtime.PROVIDED_AL2023,
        architecture: props.architecture,
        handler: 'bootstrap',
        code: props.code(service, binary),
        memorySize: props.memorySize,
        timeout,
        tracing: lambda.Tracing.ACTIVE,
        logGroup,
        environment: { TABLE_NAME: props.table.tableName, RUST_LOG: 'info', ...environment },
      });
      Tags.of(f).add(KIND_TAG, kind);
      Tags.of(f).add('amazon-lite:service', service);
      Tags.of(f).add('amazon-lite:function', name);
      return f;
    };

    // ---- Bus and archive -------------------------------------------------
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: props.busName ?? EVENT_BUS_NAME });
    // Everything published on the bus, kept for replay (StartReplay) after
    // a consumer bug or to seed a new consumer.
    this.archive = this.bus.archive('Archive', {
      description: 'Amazon Lite events, for replay',
      eventPattern: { account: [Stack.of(this).account] },
      retention: Duration.days(props.archiveRetentionDays ?? 30),
    });

    // ---- Relay: table stream -> bus --------------------------------------
    const relayScope = new Construct(this, 'Relay');
    // On-failure destination of the stream mapping: after the retries it
    // receives the failed batch's shard and sequence range (not the data;
    // the outbox items stay under OUTBOX#PENDING in GSI2 until published).
    this.relayDlq = new sqs.Queue(relayScope, 'Dlq', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.relay = fn(relayScope, 'relay', RELAY_FUNCTION, 'relay', 'relay', 'Amazon Lite outbox relay: table stream -> EventBridge', {
      EVENT_BUS_NAME: this.bus.eventBusName,
    });
    this.relay.addEventSource(
      new sources.DynamoEventSource(props.table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        retryAttempts: 10,
        // In order per shard: one batch per shard at a time.
        parallelizationFactor: 1,
        onFailure: new sources.SqsDlq(this.relayDlq),
        filters: [
          lambda.FilterCriteria.filter({
            eventName: lambda.FilterRule.isEqual('INSERT'),
            dynamodb: { NewImage: { PK: { S: lambda.FilterRule.beginsWith(OUTBOX_PREFIX) } } },
          }),
        ],
      }),
    );
    this.bus.grantPutEventsTo(this.relay);
    // Marking an item published (REMOVE GSI2PK, GSI2SK; SET publishedAt).
    this.relay.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'OutboxMarkPublished',
        actions: ['dynamodb:UpdateItem'],
        resources: [props.table.tableArn],
      }),
    );
    dlqAlarm(relayScope, this.relayDlq, 'outbox relay');
    alarm(relayScope, 'IteratorAge', {
      alarmDescription: 'outbox relay is behind the table stream by more than 5 minutes (events are delayed)',
      metric: this.relay.metric('IteratorAge', { period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM }),
      threshold: 5 * 60 * 1000,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // ---- Consumers: rule -> queue (+ DLQ) -> function ---------------------
    for (const spec of props.consumers) {
      const scope = new Construct(this, `Consumer-${spec.name}`);
      const dlq = new sqs.Queue(scope, 'Dlq', {
        retentionPeriod: Duration.days(14),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      const queue = new sqs.Queue(scope, 'Queue', {
        visibilityTimeout: Duration.seconds(timeout.toSeconds() * VISIBILITY_PER_TIMEOUT),
        retentionPeriod: Duration.days(4),
        deadLetterQueue: { queue: dlq, maxReceiveCount: MAX_RECEIVE_COUNT },
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      const rule = new events.Rule(scope, 'Rule', {
        description: `${spec.name}: ${spec.detailTypes.join(', ')}`,
        eventBus: this.bus,
        eventPattern: { detailType: [...spec.detailTypes] },
        // Events EventBridge cannot deliver to the queue land in the
        // consumer's DLQ as well (their body is the event: redrivable).
        targets: [new targets.SqsQueue(queue, { deadLetterQueue: dlq })],
      });
      const extra = props.consumerWiring?.(spec) ?? NO_WIRING;
      const f = fn(scope, 'consumer', spec.name, spec.service, spec.binary, `Amazon Lite consumer ${spec.name}: ${spec.detailTypes.join(', ')}`, {
        ...extra.environment,
        [CONSUMER_ENV]: spec.name,
      });
      extra.grant(f);
      Tags.of(f).add('amazon-lite:consumer', spec.name);
      f.addEventSource(
        new sources.SqsEventSource(queue, {
          batchSize: 10,
          reportBatchItemFailures: true,
        }),
      );
      // Idempotency records (claim, done, release) and the handler's own
      // items: read/write on the table, never Scan.
      for (const statement of tableAccessStatements(props.table, 'readWrite')) f.addToRolePolicy(statement);
      this.consumers.push({ spec, queue, dlq, rule, function: f, dlqAlarm: dlqAlarm(scope, dlq, `consumer ${spec.name}`) });

      const outputId = spec.name.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
      new CfnOutput(this, `${outputId}QueueUrl`, { description: `${spec.name}: queue`, value: queue.queueUrl });
      new CfnOutput(this, `${outputId}DlqUrl`, { description: `${spec.name}: dead-letter queue`, value: dlq.queueUrl });
    }

    new CfnOutput(this, 'EventBusName', { description: 'The EventBridge bus', value: this.bus.eventBusName });
    new CfnOutput(this, 'RelayDlqUrl', { description: 'Outbox relay failures (stream batch metadata)', value: this.relayDlq.queueUrl });
  }

  /** Dashboard widgets: relay lag and invocations, queue depth and age, DLQ depth. */
  widgets(): cloudwatch.IWidget[] {
    const minute = Duration.minutes(1);
    return [
      new cloudwatch.GraphWidget({
        title: 'Outbox relay',
        width: 8,
        left: [this.relay.metric('IteratorAge', { period: minute, statistic: cloudwatch.Stats.MAXIMUM, label: 'iterator age (ms)' })],
        right: [this.relay.metricInvocations({ period: minute, label: 'invocations' }), this.relay.metricErrors({ period: minute, label: 'errors' })],
      }),
      new cloudwatch.GraphWidget({
        title: 'Consumer queues: oldest message (s)',
        width: 8,
        left: this.consumers.map((c) =>
          c.queue.metricApproximateAgeOfOldestMessage({ period: minute, statistic: cloudwatch.Stats.MAXIMUM, label: c.spec.name }),
        ),
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queues (messages)',
        width: 8,
        left: [
          this.relayDlq.metricApproximateNumberOfMessagesVisible({ period: minute, statistic: cloudwatch.Stats.MAXIMUM, label: RELAY_FUNCTION }),
          ...this.consumers.map((c) =>
            c.dlq.metricApproximateNumberOfMessagesVisible({ period: minute, statistic: cloudwatch.Stats.MAXIMUM, label: c.spec.name }),
          ),
        ],
      }),
    ];
  }
}
