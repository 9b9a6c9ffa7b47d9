// The alarms that see what the services handle themselves (a 5xx answered
// as problem+json is not a Lambda error; a consumer that asks SQS to
// redeliver is not one either), the account's Lambda headroom, the business
// flow (checkout failures, payment declines, stuck orders) and the managed
// services behind search and notifications. Thresholds come from the
// environment (environments.ts); the services' metric names and labels from
// infra/metrics.json (metric-catalog.ts).
//
//   per route      handled 5xx (http_requests status_class=5xx), also a
//                  rollback alarm of the route's canary deployment group
//   per consumer   failed deliveries (function errors + handled retries),
//                  age of the queue's oldest message
//   account        Lambda throttles, ConcurrentExecutions
//   business       checkout_error share of orders placed, payment decline
//                  rate above its anomaly band, oldest PENDING order older
//                  than the payment timeout + margin
//   managed        OpenSearch Serverless search/ingestion errors, SES
//                  bounce rate and rejects
import { Aws, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { routeKey } from './config';
import type { AlarmThresholds } from './environments';
import type { Consumer } from './events';
import { METRIC_SOURCES, type MetricCatalog } from './metric-catalog';
import type { RouteFunction } from './route-function';
import type { SearchCollection } from './search';

const MINUTE = Duration.minutes(1);

/** `(runbook: docs/runbooks/<name>.md)`: what an alarm's description points the operator to. */
export function runbook(name: string): string {
  return `(runbook: docs/runbooks/${name}.md)`;
}
const FIVE_MINUTES = Duration.minutes(5);

/** The kinds of alarm this module makes (for counting and the dashboard). */
export type AlarmKind =
  | 'route-5xx'
  | 'consumer-errors'
  | 'queue-age'
  | 'lambda-throttles'
  | 'account-concurrency'
  | 'checkout-failure-rate'
  | 'payment-decline-anomaly'
  | 'stuck-orders'
  | 'search-errors'
  | 'ses';

export interface KindedAlarm {
  readonly kind: AlarmKind;
  readonly alarm: cloudwatch.Alarm;
}

function notify(alarm: cloudwatch.Alarm, topic: sns.ITopic): cloudwatch.Alarm {
  const action = new cw_actions.SnsAction(topic);
  alarm.addAlarmAction(action);
  alarm.addOkAction(action);
  return alarm;
}

/** What sets one of this module's threshold alarms apart from the others. */
interface AlarmSpec {
  readonly description: string;
  readonly metric: cloudwatch.IMetric;
  /** Breaching at the threshold and above (`>=`), or only above it (`>`). */
  readonly breach: '>=' | '>';
  readonly threshold: number;
  /** Periods looked at (default 1) and how many of them must breach (default all). */
  readonly evaluationPeriods?: number;
  readonly datapointsToAlarm?: number;
}

/**
 * The one alarm builder: what every alarm here shares is set once (no data is
 * not breaching: a quiet system is healthy; the topic hears ALARM and OK).
 */
function thresholdAlarm(owner: Construct, id: string, spec: AlarmSpec, topic: sns.ITopic): cloudwatch.Alarm {
  const alarm = new cloudwatch.Alarm(owner, id, {
    alarmDescription: spec.description,
    metric: spec.metric,
    threshold: spec.threshold,
    comparisonOperator:
      spec.breach === '>='
        ? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        : cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: spec.evaluationPeriods ?? 1,
    datapointsToAlarm: spec.datapointsToAlarm,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  return notify(alarm, topic);
}

/** An AWS service's own metric (account-wide unless dimensions are given). */
function awsMetric(namespace: string, metricName: string, statistic: string, period: Duration, dimensionsMap?: Record<string, string>): cloudwatch.Metric {
  return new cloudwatch.Metric({ namespace, metricName, statistic, period, dimensionsMap });
}

/**
 * The route's handled-5xx alarm, in the route's own (nested) stack, added to
 * its CodeDeploy deployment group: a canary that answers 5xx is rolled back
 * like one that crashes.
 */
export function addRoute5xxAlarm(rf: RouteFunction, catalog: MetricCatalog, thresholds: AlarmThresholds, topic: sns.ITopic): cloudwatch.Alarm {
  const { route } = rf;
  const alarm = thresholdAlarm(
    rf,
    'Handled5xx',
    {
      description: `${route.function} (${routeKey(route)}) answered ${thresholds.route5xxPerMinute}+ 5xx in a minute ${runbook('rollback')}`,
      metric: catalog.metric(
        'http_requests',
        { service: route.service, route: route.path, method: route.method, status_class: '5xx' },
        { period: MINUTE, statistic: cloudwatch.Stats.SUM },
      ),
      breach: '>=',
      threshold: thresholds.route5xxPerMinute,
    },
    topic,
  );
  rf.deployment.addAlarm(alarm);
  return alarm;
}

export interface OperationsAlarmsProps {
  readonly catalog: MetricCatalog;
  readonly thresholds: AlarmThresholds;
  readonly alarmTopic: sns.ITopic;
  readonly consumers: readonly Consumer[];
  /** The saga's wait for the payment provider (CHECKOUT_PAYMENT_TIMEOUT_SECS). */
  readonly paymentTimeoutSeconds: number;
  /** The search collection, when there is one. */
  readonly search?: SearchCollection;
}

/** The stack-wide operations alarms (the route ones are made by addRoute5xxAlarm). */
export class OperationsAlarms extends Construct {
  readonly alarms: KindedAlarm[] = [];

  constructor(scope: Construct, id: string, props: OperationsAlarmsProps) {
    super(scope, id);
    const { catalog, thresholds: t } = props;
    const add = (kind: AlarmKind, owner: Construct, alarmId: string, spec: AlarmSpec) => {
      const alarm = thresholdAlarm(owner, alarmId, spec, props.alarmTopic);
      this.alarms.push({ kind, alarm });
      return alarm;
    };

    // ---- Consumers -------------------------------------------------------
    for (const c of props.consumers) {
      const owner = new Construct(this, `Consumer-${c.spec.name}`);
      add('consumer-errors', owner, 'Errors', {
        description:
          `consumer ${c.spec.name}: ${t.consumerErrorsPer5Minutes}+ failed deliveries in 5 minutes ` +
          `(function errors + events_consumed outcome=retried); SQS redelivers, then dead-letters ${runbook('dlq-redrive')}`,
        metric: new cloudwatch.MathExpression({
          expression: 'FILL(errors, 0) + FILL(retried, 0)',
          usingMetrics: {
            errors: c.function.metricErrors({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
            retried: catalog.metric('events_consumed', { service: c.spec.service, consumer: c.spec.name, outcome: 'retried' }),
          },
          label: `${c.spec.name} failed deliveries`,
          period: FIVE_MINUTES,
        }),
        threshold: t.consumerErrorsPer5Minutes,
        breach: '>=',
      });
      add('queue-age', owner, 'OldestMessage', {
        description: `consumer ${c.spec.name}: its queue's oldest message is older than ${t.queueOldestMessageAgeSeconds} s (consumer stuck or too slow) ${runbook('dlq-redrive')}`,
        metric: c.queue.metricApproximateAgeOfOldestMessage({ period: MINUTE, statistic: cloudwatch.Stats.MAXIMUM }),
        threshold: t.queueOldestMessageAgeSeconds,
        breach: '>',
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
      });
    }

    // ---- Account headroom --------------------------------------------------
    // AWS/Lambda without dimensions: every function of the account and region.
    add('lambda-throttles', this, 'LambdaThrottles', {
      description: 'Lambda throttled invocations in this account and region (concurrency quota reached)',
      metric: awsMetric('AWS/Lambda', 'Throttles', cloudwatch.Stats.SUM, FIVE_MINUTES),
      threshold: 1,
      breach: '>=',
    });
    add('account-concurrency', this, 'ConcurrentExecutions', {
      description: `Lambda concurrent executions in this account and region above ${t.accountConcurrentExecutions} (quota headroom)`,
      metric: awsMetric('AWS/Lambda', 'ConcurrentExecutions', cloudwatch.Stats.MAXIMUM, MINUTE),
      threshold: t.accountConcurrentExecutions,
      breach: '>',
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
    });

    // ---- Business --------------------------------------------------------
    add('checkout-failure-rate', this, 'CheckoutFailureRate', {
      description: `more than ${t.checkoutFailurePercent} % of orders placed failed with reason checkout_error in 5 minutes ${runbook('saga-failures')}`,
      metric: new cloudwatch.MathExpression({
        expression: '100 * FILL(failed, 0) / placed',
        usingMetrics: {
          failed: catalog.metric('orders_failed', { service: METRIC_SOURCES.orders_failed, reason: 'checkout_error' }),
          placed: catalog.metric('orders_placed', { service: METRIC_SOURCES.orders_placed }),
        },
        label: 'checkout_error (% of orders placed)',
        period: FIVE_MINUTES,
      }),
      threshold: t.checkoutFailurePercent,
      breach: '>',
    });

    const authorizations = (outcome: string) =>
      catalog.metric('payment_authorizations', { service: METRIC_SOURCES.payment_authorizations, outcome });
    const declines = new cloudwatch.AnomalyDetectionAlarm(this, 'PaymentDeclineAnomaly', {
      alarmDescription: `payment decline rate above its anomaly band (${t.paymentDeclineBandStdDevs} standard deviations) for 3 of 3 five-minute periods`,
      metric: new cloudwatch.MathExpression({
        expression: '100 * FILL(declined, 0) / (FILL(authorized, 0) + FILL(declined, 0) + FILL(timedOut, 0))',
        usingMetrics: { declined: authorizations('declined'), authorized: authorizations('authorized'), timedOut: authorizations('timed_out') },
        label: 'payment decline rate (%)',
        period: FIVE_MINUTES,
      }),
      stdDevs: t.paymentDeclineBandStdDevs,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_UPPER_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarms.push({ kind: 'payment-decline-anomaly', alarm: notify(declines, props.alarmTopic) });

    const stuckAfter = props.paymentTimeoutSeconds + t.stuckOrderMarginSeconds;
    add('stuck-orders', this, 'StuckOrders', {
      description:
        `a PENDING order is older than the payment timeout (${props.paymentTimeoutSeconds} s) + ${t.stuckOrderMarginSeconds} s: ` +
        `its checkout neither confirmed nor failed ${runbook('stuck-orders')}`,
      metric: catalog.metric('orders_pending_oldest_age', { service: METRIC_SOURCES.orders_pending_oldest_age }, { statistic: cloudwatch.Stats.MAXIMUM }),
      threshold: stuckAfter,
      breach: '>',
    });

    // ---- Managed services ------------------------------------------------
    if (props.search) {
      const c = props.search;
      const aoss = (metricName: string) =>
        awsMetric('AWS/AOSS', metricName, cloudwatch.Stats.SUM, FIVE_MINUTES, {
          ClientId: Aws.ACCOUNT_ID,
          CollectionId: c.collection.attrId,
          CollectionName: c.collectionName,
        });
      for (const [alarmId, metricName, what] of [
        ['SearchRequestErrors', 'SearchRequestErrors', 'search'],
        ['SearchIngestionErrors', 'IngestionRequestErrors', 'indexing'],
      ] as const) {
        add('search-errors', this, alarmId, {
          description: `OpenSearch Serverless collection ${c.collectionName}: ${t.searchErrorsPer5Minutes}+ ${what} request errors in 5 minutes`,
          metric: aoss(metricName),
          threshold: t.searchErrorsPer5Minutes,
          breach: '>=',
        });
      }
    }

    // SES publishes account-level metrics (no dimensions) in its region.
    add('ses', this, 'SesBounceRate', {
      description: `SES bounce rate above ${t.sesBounceRate * 100} % (SES reviews the account at 10 %)`,
      metric: awsMetric('AWS/SES', 'Reputation.BounceRate', cloudwatch.Stats.MAXIMUM, FIVE_MINUTES),
      threshold: t.sesBounceRate,
      breach: '>',
    });
    add('ses', this, 'SesRejects', {
      description: 'SES rejected notification e-mails',
      metric: awsMetric('AWS/SES', 'Reject', cloudwatch.Stats.SUM, FIVE_MINUTES),
      threshold: 1,
      breach: '>=',
    });
  }
}
