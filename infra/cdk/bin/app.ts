#!/usr/bin/env node
// Entry point of the CDK app (cdk.json: `npx tsx bin/app.ts`).
//
// Settings (context wins over environment):
//   AMAZON_LITE_SKIP_BUNDLING=1            synth without `cargo lambda build` (placeholder assets)
//   -c corsOrigins=https://a,https://b     or AMAZON_LITE_CORS_ORIGINS; default: no CORS
//   -c alarmEmail=ops@example.com          or AMAZON_LITE_ALARM_EMAIL; default: no subscription
import { App } from 'aws-cdk-lib';
import { AmazonLiteStack } from '../lib/amazon-lite-stack';

const app = new App();
if (process.env.AMAZON_LITE_SKIP_BUNDLING === '1') {
  // Bundle no stack: RustFunction assets become placeholders (tests, CI, cfn-lint).
  app.node.setContext('aws:cdk:bundling-stacks', []);
}

function setting(contextKey: string, envVar: string): string | undefined {
  const value = app.node.tryGetContext(contextKey) ?? process.env[envVar];
  if (Array.isArray(value)) return value.join(',');
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

const corsOrigins = (setting('corsOrigins', 'AMAZON_LITE_CORS_ORIGINS') ?? '')
  .split(',')
  .map((o) => o.trim())
  .filter((o) => o !== '');

new AmazonLiteStack(app, 'AmazonLiteStack', {
  // CloudFormation stack name; samconfig.toml's stack_name is the same, so
  // `cdk deploy` and `sam deploy`/`sam sync` address one stack.
  stackName: 'amazon-lite',
  description: 'Amazon Lite: serverless Rust e-commerce backend',
  // Account and region come from the CLI's credentials when deploying;
  // synth stays environment-agnostic (no AWS account needed).
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  corsOrigins,
  alarmEmail: setting('alarmEmail', 'AMAZON_LITE_ALARM_EMAIL'),
});
