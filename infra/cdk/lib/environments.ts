// The deployment environments (`-c env=dev|staging|prod`): one typed record per
// environment holds everything that differs between them (names, sizes,
// retention, alarm thresholds, protections), so two environments can live side
// by side in one account and region. Nothing here is region-specific.
import { RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';

export const ENVIRONMENT_NAMES = ['dev', 'staging', 'prod'] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

export interface AlarmThresholds {
  /** Handled 5xx answers of one route in one minute that page (and roll a canary back). */
  readonly route5xxPerMinute: number;
  /** Oldest message of a consumer queue, seconds. */
  readonly queueOldestMessageAgeSeconds: number;
  /** Share of checkouts failing with reason checkout_error, percent over 5 minutes. */
  readonly checkoutFailurePercent: number;
  /** Margin added to the payment timeout before a PENDING order counts as stuck, seconds. */
  readonly stuckOrderMarginSeconds: number;
  /** Account ConcurrentExecutions that warns, absolute. */
  readonly accountConcurrentExecutions: number;
}

export interface EnvironmentConfig {
  readonly name: EnvironmentName;
  /** CloudFormation stack name; every explicit physical name derives from it. */
  readonly stackName: string;
  /** CloudWatch namespace the services emit their metrics to (env AMAZON_LITE_METRICS_NAMESPACE). */
  readonly metricsNamespace: string;
  readonly memorySize: number;
  /** Reserved concurrency per route function; undefined = unreserved (the account pool). */
  readonly reservedConcurrency?: number;
  readonly logRetention: logs.RetentionDays;
  /** Table: deletion protection, PITR and what happens to it when the stack goes. */
  readonly tableDeletionProtection: boolean;
  readonly pointInTimeRecovery: boolean;
  readonly tableRemovalPolicy: RemovalPolicy;
  readonly alarms: AlarmThresholds;
}

const BASE_ALARMS: AlarmThresholds = {
  route5xxPerMinute: 5,
  queueOldestMessageAgeSeconds: 900,
  checkoutFailurePercent: 5,
  stuckOrderMarginSeconds: 300,
  accountConcurrentExecutions: 800,
};

export const ENVIRONMENTS: Readonly<Record<EnvironmentName, EnvironmentConfig>> = {
  // dev keeps today's names (stack `amazon-lite`), so a deploy without -c env is unchanged.
  dev: {
    name: 'dev',
    stackName: 'amazon-lite',
    metricsNamespace: 'AmazonLite/dev',
    memorySize: 256,
    logRetention: logs.RetentionDays.ONE_WEEK,
    tableDeletionProtection: false,
    pointInTimeRecovery: true,
    tableRemovalPolicy: RemovalPolicy.DESTROY,
    alarms: { ...BASE_ALARMS, route5xxPerMinute: 20, checkoutFailurePercent: 20 },
  },
  staging: {
    name: 'staging',
    stackName: 'amazon-lite-staging',
    metricsNamespace: 'AmazonLite/staging',
    memorySize: 256,
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
    reservedConcurrency: 50,
    logRetention: logs.RetentionDays.THREE_MONTHS,
    tableDeletionProtection: true,
    pointInTimeRecovery: true,
    tableRemovalPolicy: RemovalPolicy.RETAIN,
    alarms: { ...BASE_ALARMS, route5xxPerMinute: 3, checkoutFailurePercent: 2 },
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
