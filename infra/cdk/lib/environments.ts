// The deployment environments (`-c env=dev|staging|prod`): one typed record per
// environment holds everything that differs between them (names, sizes,
// retention, alarm thresholds, protections), so two environments can live side
// by side in one account and region. Nothing here is region-specific.
import { RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';

export const ENVIRONMENT_NAMES = ['dev', 'staging', 'prod'] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

export interface AlarmThresholds {
  /** HTTP API 5xx answers (API Gateway's count) in 5 minutes. */
  readonly api5xxPer5Minutes: number;
  /** HTTP API p99 latency (ms, whole request), 3 of 3 five-minute periods. */
  readonly apiP99LatencyMs: number;
  /** Handled 5xx answers of one route in one minute that page (and roll a canary back). */
  readonly route5xxPerMinute: number;
  /** Oldest message of a consumer queue, seconds. */
  readonly queueOldestMessageAgeSeconds: number;
  /** A consumer's failed deliveries (function errors + handled retries) in 5 minutes. */
  readonly consumerErrorsPer5Minutes: number;
  /** Share of checkouts failing with reason checkout_error, percent over 5 minutes. */
  readonly checkoutFailurePercent: number;
  /** Width of the payment decline rate's anomaly band, in standard deviations. */
  readonly paymentDeclineBandStdDevs: number;
  /** Margin added to the payment timeout before a PENDING order counts as stuck, seconds. */
  readonly stuckOrderMarginSeconds: number;
  /** Account ConcurrentExecutions that warns, absolute (the default account quota is 1000). */
  readonly accountConcurrentExecutions: number;
  /** OpenSearch Serverless search or ingestion request errors in 5 minutes. */
  readonly searchErrorsPer5Minutes: number;
  /** SES bounce rate (Reputation.BounceRate, a fraction) that warns; SES reviews an account at 0.10. */
  readonly sesBounceRate: number;
  /** The synthetic journey's SuccessPercent below which it alarms (2 of 3 runs). */
  readonly canarySuccessPercent: number;
}

export interface ThrottleSettings {
  /** Steady-state requests per second for the whole stage. */
  readonly rateLimit: number;
  /** Burst bucket size. */
  readonly burstLimit: number;
}

export interface EnvironmentConfig {
  readonly name: EnvironmentName;
  /** CloudFormation stack name; every explicit physical name derives from it. */
  readonly stackName: string;
  /** CloudWatch namespace the services emit their metrics to (env AMAZON_LITE_METRICS_NAMESPACE). */
  readonly metricsNamespace: string;
  /** Memory of every function, MB. */
  readonly memorySize: number;
  /**
   * Default-stage throttling: the protection of the account's concurrency.
   * (Reserved concurrency per route would take 47 x N of the account's
   * default 1000 and fail the deploy, so there is none.)
   */
  readonly throttle: ThrottleSettings;
  readonly logRetention: logs.RetentionDays;
  /** Table: deletion protection, PITR and what happens to it when the stack goes. */
  readonly tableDeletionProtection: boolean;
  readonly pointInTimeRecovery: boolean;
  readonly tableRemovalPolicy: RemovalPolicy;
  readonly alarms: AlarmThresholds;
}

const BASE_ALARMS: AlarmThresholds = {
  api5xxPer5Minutes: 5,
  apiP99LatencyMs: 1000,
  route5xxPerMinute: 5,
  queueOldestMessageAgeSeconds: 900,
  consumerErrorsPer5Minutes: 5,
  checkoutFailurePercent: 5,
  paymentDeclineBandStdDevs: 3,
  stuckOrderMarginSeconds: 300,
  accountConcurrentExecutions: 800,
  searchErrorsPer5Minutes: 5,
  sesBounceRate: 0.05,
  canarySuccessPercent: 90,
};

export const ENVIRONMENTS: Readonly<Record<EnvironmentName, EnvironmentConfig>> = {
  // dev keeps today's names (stack `amazon-lite`), so a deploy without -c env is unchanged.
  dev: {
    name: 'dev',
    stackName: 'amazon-lite',
    metricsNamespace: 'AmazonLite/dev',
    memorySize: 256,
    throttle: { rateLimit: 100, burstLimit: 200 },
    logRetention: logs.RetentionDays.ONE_WEEK,
    tableDeletionProtection: false,
    pointInTimeRecovery: true,
    // dev is the stack a deploy without -c env makes, often someone's only
    // one: `cdk destroy` leaves its table (and orders) behind. staging is
    // disposable and drops it.
    tableRemovalPolicy: RemovalPolicy.RETAIN,
    alarms: { ...BASE_ALARMS, route5xxPerMinute: 20, checkoutFailurePercent: 20, api5xxPer5Minutes: 20 },
  },
  staging: {
    name: 'staging',
    stackName: 'amazon-lite-staging',
    metricsNamespace: 'AmazonLite/staging',
    memorySize: 256,
    throttle: { rateLimit: 100, burstLimit: 200 },
    logRetention: logs.RetentionDays.TWO_WEEKS,
    tableDeletionProtection: false,
    pointInTimeRecovery: true,
    tableRemovalPolicy: RemovalPolicy.DESTROY,
    alarms: BASE_ALARMS,
  },
  prod: {
    name: 'prod',
    stackName: 'amazon-lite-prod',
    metricsNamespace: 'AmazonLite/prod',
    memorySize: 512,
    throttle: { rateLimit: 500, burstLimit: 1000 },
    logRetention: logs.RetentionDays.THREE_MONTHS,
    tableDeletionProtection: true,
    pointInTimeRecovery: true,
    tableRemovalPolicy: RemovalPolicy.RETAIN,
    alarms: { ...BASE_ALARMS, route5xxPerMinute: 3, checkoutFailurePercent: 2, canarySuccessPercent: 95 },
  },
};

/** The environment named by `-c env=...` (undefined or empty = dev); anything else fails the synth. */
export function environmentFor(value: unknown): EnvironmentConfig {
  if (value === undefined || value === null || value === '') return ENVIRONMENTS.dev;
  if (typeof value === 'string' && (ENVIRONMENT_NAMES as readonly string[]).includes(value)) {
    return ENVIRONMENTS[value as EnvironmentName];
  }
  throw new Error(`env=${JSON.stringify(value)} is not one of ${ENVIRONMENT_NAMES.join(', ')}`);
}
