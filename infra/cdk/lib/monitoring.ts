// Stack-wide alarms (API 5xx and p99 latency, DynamoDB throttling) and the
// operations dashboard. Per-function error alarms live with their function
// (route-function.ts) because CodeDeploy rolls back on them.
import { Duration } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { RouteFunction } from './route-function';

export interface AlarmThresholds {
  /** API 5xx responses in 5 minutes that raise the alarm. */
  readonly api5xxPer5Minutes: number;
  /** API p99 latency (ms, whole request) that raises the alarm after 3 of 3 five-minute periods. */
  readonly apiP99LatencyMs: number;
}

export const DEFAULT_ALARM_THRESHOLDS: AlarmThresholds = { api5xxPer5Minutes: 5, apiP99LatencyMs: 1000 };

export interface MonitoringProps {
  readonly httpApi: apigwv2.HttpApi;
  readonly table: dynamodb.Table;
  readonly functions: readonly RouteFunction[];
  readonly alarmTopic: sns.ITopic;
  readonly thresholds: AlarmThresholds;
}

// Operations the request paths use; ThrottledRequests is reported per
// operation. At most 10 so the sum stays a valid alarm expression.
const TABLE_OPERATIONS = [
  dynamodb.Operation.GET_ITEM,
  dynamodb.Operation.BATCH_GET_ITEM,
  dynamodb.Operation.QUERY,
  dynamodb.Operation.PUT_ITEM,
  dynamodb.Operation.UPDATE_ITEM,
  dynamodb.Operation.DELETE_ITEM,
  dynamodb.Operation.BATCH_WRITE_ITEM,
  dynamodb.Operation.TRANSACT_GET_ITEMS,
  dynamodb.Operation.TRANSACT_WRITE_ITEMS,
];

const FIVE_MINUTES = Duration.minutes(5);
/** CloudWatch shows at most 100 alarms in one alarm status widget. */
export const ALARMS_PER_WIDGET = 100;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class Monitoring extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { httpApi, table } = props;
    const action = new cw_actions.SnsAction(props.alarmTopic);
    const alarm = (alarmId: string, alarmProps: cloudwatch.AlarmProps): cloudwatch.Alarm => {
      const a = new cloudwatch.Alarm(this, alarmId, alarmProps);
      a.addAlarmAction(action);
      a.addOkAction(action);
      this.alarms.push(a);
      return a;
    };

    const requests = httpApi.metricCount({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM, label: 'requests' });
    const serverErrors = httpApi.metricServerError({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM, label: '5xx' });
    const clientErrors = httpApi.metricClientError({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM, label: '4xx' });
    const latency = (stat: string) => httpApi.metricLatency({ period: FIVE_MINUTES, statistic: stat, label: `latency ${stat}` });
    const throttles = table.metricThrottledRequestsForOperations({
      operations: TABLE_OPERATIONS,
      period: FIVE_MINUTES,
      label: 'throttled requests',
    });

    alarm('Api5xx', {
      alarmDescription: 'HTTP API answered 5xx',
      metric: serverErrors,
      threshold: props.thresholds.api5xxPer5Minutes,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm('ApiLatencyP99', {
      alarmDescription: `HTTP API p99 latency above ${props.thresholds.apiP99LatencyMs} ms`,
      metric: latency('p99'),
      threshold: props.thresholds.apiP99LatencyMs,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm('TableThrottles', {
      alarmDescription: 'DynamoDB throttled requests on the single table',
      metric: throttles,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    const perFunction = (title: string, metric: (f: RouteFunction) => cloudwatch.IMetric) =>
      new cloudwatch.GraphWidget({
        title,
        width: 12,
        height: 8,
        left: props.functions.map(metric),
        legendPosition: cloudwatch.LegendPosition.RIGHT,
      });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
      widgets: [
        [
          new cloudwatch.GraphWidget({ title: 'API requests', width: 8, left: [requests] }),
          new cloudwatch.GraphWidget({ title: 'API errors', width: 8, left: [serverErrors, clientErrors] }),
          new cloudwatch.GraphWidget({
            title: 'API latency (ms)',
            width: 8,
            left: [latency('p50'), latency('p90'), latency('p99')],
          }),
        ],
        [
          perFunction('Function errors', (f) =>
            f.alias.metricErrors({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM, label: f.route.function }),
          ),
          perFunction('Function duration p99 (ms)', (f) =>
            f.alias.metricDuration({ period: FIVE_MINUTES, statistic: 'p99', label: f.route.function }),
          ),
        ],
        [
          perFunction('Function invocations', (f) =>
            f.alias.metricInvocations({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM, label: f.route.function }),
          ),
          perFunction('Function throttles', (f) =>
            f.alias.metricThrottles({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM, label: f.route.function }),
          ),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'DynamoDB',
            width: 12,
            left: [
              table.metricConsumedReadCapacityUnits({ period: FIVE_MINUTES, label: 'read units' }),
              table.metricConsumedWriteCapacityUnits({ period: FIVE_MINUTES, label: 'write units' }),
            ],
            right: [throttles],
          }),
          new cloudwatch.AlarmStatusWidget({ title: 'API and table alarms', width: 12, alarms: this.alarms }),
        ],
        // The route functions' error alarms (they live in the services'
        // nested stacks), at most ALARMS_PER_WIDGET per widget.
        ...chunks(props.functions, ALARMS_PER_WIDGET).map((group, i, all) => [
          new cloudwatch.AlarmStatusWidget({
            title: all.length === 1 ? 'Function error alarms' : `Function error alarms (${i + 1}/${all.length})`,
            width: 24,
            alarms: group.map((f) => f.errorAlarm),
          }),
        ]),
      ],
    });
  }
}
