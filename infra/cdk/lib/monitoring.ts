// Stack-wide alarms (API 5xx and p99 latency, DynamoDB throttling) and the
// operations dashboard: the API, the functions, the table, the business
// (orders by outcome and failure reason, checkout duration, payments,
// stock-outs, logins, events published and consumed, DLQ depth) from the
// services' own metrics (metric-catalog.ts), the synthetic shopper, and
// every alarm's status. Per-function error and handled-5xx alarms live with
// their function (route-function.ts, alarms.ts) because CodeDeploy rolls
// back on them; the other operations alarms are alarms.ts's.
import { Duration } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { ApiCanary } from './canary';
import type { AlarmThresholds } from './environments';
import { RELAY_FUNCTION, type EventsBackbone } from './events';
import { METRIC_SOURCES, type MetricCatalog } from './metric-catalog';
import type { RouteFunction } from './route-function';

export interface MonitoringProps {
  readonly httpApi: apigwv2.HttpApi;
  readonly table: dynamodb.Table;
  readonly functions: readonly RouteFunction[];
  readonly alarmTopic: sns.ITopic;
  readonly thresholds: AlarmThresholds;
  readonly catalog: MetricCatalog;
  readonly events: EventsBackbone;
  /** The routes' handled-5xx alarms (nested stacks). */
  readonly route5xxAlarms: readonly cloudwatch.IAlarm[];
  /** alarms.ts's stack-wide alarms. */
  readonly operationsAlarms: readonly cloudwatch.IAlarm[];
  readonly canary?: ApiCanary;
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
        ...chunks(props.route5xxAlarms, ALARMS_PER_WIDGET).map((group, i, all) => [
          new cloudwatch.AlarmStatusWidget({
            title: all.length === 1 ? 'Route 5xx alarms' : `Route 5xx alarms (${i + 1}/${all.length})`,
            width: 24,
            alarms: [...group],
          }),
        ]),
      ],
    });
    this.dashboard.addWidgets(...businessWidgets(props.catalog, props.events));
    if (props.canary) {
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Synthetic shopper: success (%)',
          width: 12,
          left: [props.canary.canary.metricSuccessPercent({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.AVERAGE, label: 'success %' })],
          leftYAxis: { min: 0, max: 100 },
        }),
        new cloudwatch.GraphWidget({
          title: 'Synthetic shopper: duration (ms)',
          width: 12,
          left: [props.canary.canary.metricDuration({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.AVERAGE, label: 'journey' })],
        }),
      );
    }
    this.dashboard.addWidgets(
      ...chunks(props.operationsAlarms, ALARMS_PER_WIDGET).map(
        (group, i, all) =>
          new cloudwatch.AlarmStatusWidget({
            title: all.length === 1 ? 'Operations alarms' : `Operations alarms (${i + 1}/${all.length})`,
            width: 24,
            alarms: [...group],
          }),
      ),
    );
  }
}

/**
 * The business rows: what shoppers did and how the flow went. Counters and
 * histograms with a fixed owner are plain metrics; those whose labels vary
 * (failure reasons, event types, consumers) are SEARCH expressions over
 * their dimension set, so a new reason or event type shows up by itself.
 */
export function businessWidgets(catalog: MetricCatalog, events: EventsBackbone): cloudwatch.IWidget[] {
  const orders = METRIC_SOURCES.orders_placed;
  const sum = { period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM };
  return [
    new cloudwatch.GraphWidget({
      title: 'Orders',
      width: 8,
      left: [
        catalog.metric('orders_placed', { service: orders }, { ...sum, label: 'placed' }),
        catalog.metric('orders_confirmed', { service: METRIC_SOURCES.orders_confirmed }, { ...sum, label: 'confirmed' }),
        catalog.metric('orders_cancelled', { service: METRIC_SOURCES.orders_cancelled }, { ...sum, label: 'cancelled' }),
        catalog.metric('orders_shipped', { service: METRIC_SOURCES.orders_shipped }, { ...sum, label: 'shipped' }),
      ],
    }),
    new cloudwatch.GraphWidget({
      title: 'Orders failed, by reason',
      width: 8,
      left: [catalog.search('orders_failed', 'Sum', 'failed')],
    }),
    new cloudwatch.GraphWidget({
      title: 'Checkout duration (ms)',
      width: 8,
      left: (['confirmed', 'failed'] as const).flatMap((outcome) =>
        ['p50', 'p99'].map((stat) =>
          catalog.metric(
            'checkout_duration',
            { service: METRIC_SOURCES.checkout_duration, outcome },
            { period: FIVE_MINUTES, statistic: stat, label: `${outcome} ${stat}` },
          ),
        ),
      ),
    }),
    new cloudwatch.GraphWidget({
      title: 'Payment authorizations',
      width: 8,
      left: ['authorized', 'declined', 'timed_out'].map((outcome) =>
        catalog.metric('payment_authorizations', { service: METRIC_SOURCES.payment_authorizations, outcome }, { ...sum, label: outcome }),
      ),
    }),
    new cloudwatch.GraphWidget({
      title: 'Stock reservations (stock-outs)',
      width: 8,
      left: ['reserved', 'out_of_stock'].map((outcome) =>
        catalog.metric('stock_reservations', { service: METRIC_SOURCES.stock_reservations, outcome }, { ...sum, label: outcome }),
      ),
    }),
    new cloudwatch.GraphWidget({
      title: 'Sign-ins',
      width: 8,
      left: [catalog.search('logins', 'Sum', 'logins')],
    }),
    new cloudwatch.GraphWidget({
      title: 'Events published, by type',
      width: 8,
      left: [catalog.search('events_published', 'Sum', 'published')],
    }),
    new cloudwatch.GraphWidget({
      title: 'Events consumed, by consumer and outcome',
      width: 8,
      left: [catalog.search('events_consumed', 'Sum', 'consumed')],
    }),
    new cloudwatch.GraphWidget({
      title: 'Dead-letter queues (messages) and oldest PENDING order (s)',
      width: 8,
      left: [
        events.relayDlq.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.MAXIMUM, label: RELAY_FUNCTION }),
        ...events.consumers.map((c) =>
          c.dlq.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.MAXIMUM, label: c.spec.name }),
        ),
      ],
      right: [
        catalog.metric('orders_pending_oldest_age', { service: METRIC_SOURCES.orders_pending_oldest_age }, { statistic: cloudwatch.Stats.MAXIMUM, label: 'oldest PENDING order (s)' }),
      ],
    }),
  ];
}
