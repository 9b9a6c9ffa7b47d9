// The synthetic shopper: a CloudWatch Synthetics canary runs the guest
// journey of canary/journey.js (browse, search, add to cart and remove
// again) against the deployed API every 5 minutes, and an alarm watches
// its SuccessPercent. The script is inline: journey.js as it is, plus a
// handler that runs each step as a Synthetics step (no screenshots: there
// is no page, only API calls with the runtime's fetch).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as synthetics from 'aws-cdk-lib/aws-synthetics';
import { Construct } from 'constructs';
import { runbook } from './alarms';

export const JOURNEY_FILE = path.join(__dirname, 'canary', 'journey.js');
export const CANARY_RUNTIME = synthetics.Runtime.SYNTHETICS_NODEJS_PUPPETEER_13_0;
export const CANARY_SCHEDULE = Duration.minutes(5);
/** The variable the script reads the API's base URL from. */
export const API_URL_ENV = 'API_URL';

// Synthetics: 1 to 255 characters of lower-case letters, digits, '-' and '_' (CloudFormation
// allows 255, the console and older APIs 21: stay within 21).
const MAX_CANARY_NAME = 21;

/** `<stack name>-api`, or a hashed shortening of it: unique per stack name, at most 21 characters. */
export function canaryNameFor(stackName: string): string {
  const base = stackName.toLowerCase().replace(/[^a-z0-9_-]/g, '-');
  const full = `${base}-api`;
  if (full.length <= MAX_CANARY_NAME) return full;
  const hash = createHash('sha256').update(stackName).digest('hex').slice(0, 6);
  return `${base.slice(0, MAX_CANARY_NAME - hash.length - 1).replace(/[-_]+$/, '')}-${hash}`;
}

/** The inline script: the journey and the Synthetics handler. */
export function canaryScript(): string {
  const journey = fs.readFileSync(JOURNEY_FILE, 'utf-8');
  return `${journey}
// ---- CloudWatch Synthetics handler (lib/canary.ts) ----
const synthetics = require('Synthetics');
exports.handler = async () => {
  synthetics.getConfiguration().setConfig({
    screenshotOnStepStart: false,
    screenshotOnStepSuccess: false,
    screenshotOnStepFailure: false,
  });
  return runJourney({
    baseUrl: process.env.${API_URL_ENV},
    fetch,
    runId: Date.now().toString(36),
    step: async (name, fn) => {
      let out;
      await synthetics.executeStep(name, async () => {
        out = await fn();
      });
      return out;
    },
  });
};
`;
}

export interface ApiCanaryProps {
  /** The environment's stack name (the canary's name derives from it). */
  readonly stackName: string;
  /** The API's base URL (the stage URL). */
  readonly apiUrl: string;
  readonly alarmTopic: sns.ITopic;
  /** SuccessPercent below which 2 of 3 periods alarm. */
  readonly successPercent: number;
}

export class ApiCanary extends Construct {
  readonly canary: synthetics.Canary;
  readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ApiCanaryProps) {
    super(scope, id);
    // Run artifacts (logs, HAR, results): private, encrypted, TLS only, a month.
    const artifacts = new s3.Bucket(this, 'Artifacts', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(31) }],
    });
    this.canary = new synthetics.Canary(this, 'Journey', {
      canaryName: canaryNameFor(props.stackName),
      runtime: CANARY_RUNTIME,
      test: synthetics.Test.custom({ code: synthetics.Code.fromInline(canaryScript()), handler: 'index.handler' }),
      schedule: synthetics.Schedule.rate(CANARY_SCHEDULE),
      environmentVariables: { [API_URL_ENV]: props.apiUrl },
      timeout: Duration.minutes(1),
      successRetentionPeriod: Duration.days(7),
      failureRetentionPeriod: Duration.days(31),
      // The canary's own Lambda function and layer go with the stack.
      provisionedResourceCleanup: true,
      artifactsBucketLocation: { bucket: artifacts },
    });

    this.alarm = new cloudwatch.Alarm(this, 'SuccessPercent', {
      alarmDescription:
        `the synthetic shopper (canary ${canaryNameFor(props.stackName)}: browse, search, guest cart) ` +
        `succeeded in less than ${props.successPercent} % of its runs in 2 of 3 five-minute periods, or did not run ${runbook('rollback')}`,
      metric: this.canary.metricSuccessPercent({ period: CANARY_SCHEDULE, statistic: cloudwatch.Stats.AVERAGE }),
      threshold: props.successPercent,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      // A canary that stopped running is as bad as one that fails.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    const action = new cw_actions.SnsAction(props.alarmTopic);
    this.alarm.addAlarmAction(action);
    this.alarm.addOkAction(action);
  }
}
