// The reservation sweeper (functions/inventory, binary
// `inventory-reservation-sweeper`): an EventBridge schedule invokes it
// every minute; it releases the stock of checkout holds that ran out and
// reports the oldest PENDING order's age (the stuck-order gauge). Held
// reservations sit in GSI2 (partition `RESV#HELD`, sorted by end of hold),
// so it queries that index and writes the reservations, stock items and
// outbox events by key: item read/write on the table, Query on GSI2 only,
// never Scan. A failed run fails the invocation (its errors alarm fires);
// the next minute tries again, and EventBridge retries the invocation too.
import { Duration, RemovalPolicy, Tags } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { KIND_TAG } from './events';
import { ITEM_ACTIONS } from './table-access';

export const SWEEPER_FUNCTION = 'inventory-reservation-sweeper';
export const SWEEPER_SERVICE = 'inventory';
export const SWEEPER_BINARY = 'inventory-reservation-sweeper';
/** The index of held reservations (infra/table.json). */
export const SWEEPER_INDEX = 'GSI2';

export interface ReservationSweeperProps {
  readonly table: dynamodb.ITable;
  readonly code: lambda.Code;
  readonly architecture: lambda.Architecture;
  readonly memorySize: number;
  readonly logRetention: logs.RetentionDays;
  readonly alarmTopic: sns.ITopic;
  /** Default every minute. */
  readonly schedule?: events.Schedule;
}

export class ReservationSweeper extends Construct {
  readonly function: lambda.Function;
  readonly rule: events.Rule;
  readonly errorAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ReservationSweeperProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    this.function = new lambda.Function(this, 'Function', {
      description: 'Amazon Lite: releases checkout stock holds that ran out (every minute)',
      runtime: lambda.Runtime.PROVIDED_AL2023,
      architecture: props.architecture,
      handler: 'bootstrap',
      code: props.code,
      memorySize: props.memorySize,
      // At most SWEEP_LIMIT (500) releases a run; below the 1-minute period,
      // so runs rarely overlap (they may: every release is conditional).
      timeout: Duration.seconds(50),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      environment: { TABLE_NAME: props.table.tableName, RUST_LOG: 'info' },
    });
    Tags.of(this.function).add(KIND_TAG, 'scheduled');
    Tags.of(this.function).add('amazon-lite:service', SWEEPER_SERVICE);
    Tags.of(this.function).add('amazon-lite:function', SWEEPER_FUNCTION);
    this.function.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'TableItemsReadWrite', actions: [...ITEM_ACTIONS], resources: [props.table.tableArn] }),
    );
    this.function.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'HeldReservationsQuery', actions: ['dynamodb:Query'], resources: [`${props.table.tableArn}/index/${SWEEPER_INDEX}`] }),
    );

    this.rule = new events.Rule(this, 'Schedule', {
      description: 'Amazon Lite: run the reservation sweeper',
      schedule: props.schedule ?? events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 2, maxEventAge: Duration.minutes(1) })],
    });

    this.errorAlarm = new cloudwatch.Alarm(this, 'Errors', {
      alarmDescription: 'the reservation sweeper failed (expired stock holds are not released)',
      metric: this.function.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.errorAlarm.addAlarmAction(new cw_actions.SnsAction(props.alarmTopic));
  }
}
