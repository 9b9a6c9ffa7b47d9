#!/usr/bin/env node
// Entry point of the CDK app (cdk.json: `npx tsx bin/app.ts`).
//
// Settings (context wins over environment):
//   -c arch=arm64|x86_64                   or AMAZON_LITE_ARCH; architecture of every function (default arm64).
//                                          The code is the prebuilt target/lambda/<binary>/bootstrap.zip of
//                                          `scripts/build-lambdas --arch <the same>` (lib/lambda-artifacts.ts);
//                                          a missing or other-arch artifact fails the synth
//   AMAZON_LITE_SKIP_BUNDLING=1            synth without the artifacts (placeholder code: tests, CI, linting)
//   -c corsOrigins=https://a,https://b     or AMAZON_LITE_CORS_ORIGINS; default: no CORS
//   -c alarmEmail=ops@example.com,b@x.org  or AMAZON_LITE_ALARM_EMAIL; each address gets an e-mail subscription to
//                                          the alarm topic (confirm it from SNS's message); default: none
//   -c previousSigningSecretArn=arn:...    or AMAZON_LITE_PREVIOUS_SIGNING_SECRET_ARN; during a signing key
//                                          rotation only (README "Rotating the signing key")
//   -c googleClientSecretArn=arn:...       or AMAZON_LITE_GOOGLE_CLIENT_SECRET_ARN; turns Google sign-in on,
//                                          and then needs googleClientId and googleRedirectUri:
//   -c googleClientId=...                  or AMAZON_LITE_GOOGLE_CLIENT_ID
//   -c googleRedirectUri=https://...       or AMAZON_LITE_GOOGLE_REDIRECT_URI
//   -c googleIssuer=https://...            or AMAZON_LITE_GOOGLE_ISSUER; default https://accounts.google.com
//   -c adminEmail=ops@example.com          or AMAZON_LITE_ADMIN_EMAIL; creates that administrator at deploy
//                                          (infra/cdk/README "Administrator account")
//   -c adminBootstrapRevision=2            or AMAZON_LITE_ADMIN_BOOTSTRAP_REVISION; a new value re-runs the bootstrap
//   -c checkoutPaymentTimeoutSeconds=900   or AMAZON_LITE_CHECKOUT_PAYMENT_TIMEOUT_SECONDS; how long a checkout
//                                          waits for the payment provider (60..86400, default 900)
//   -c notificationsFromAddress=no-reply@example.com
//                                          or AMAZON_LITE_NOTIFICATIONS_FROM_ADDRESS; default of the stack
//                                          parameter NotificationsFromAddress (sender of the notification
//                                          e-mails, a verified SES identity); without it the deploy must pass
//                                          --parameters NotificationsFromAddress=...
//   -c searchCollectionName=my-search      or AMAZON_LITE_SEARCH_COLLECTION_NAME; the OpenSearch Serverless
//                                          collection (default <stack name>-search)
//   -c env=dev|staging|prod                the environment (lib/environments.ts): stack and bus names, memory,
//                                          log retention, throttling, table protection, alarm thresholds,
//                                          metrics namespace AmazonLite/<env>; default dev, which keeps the
//                                          stack name amazon-lite. Environments coexist in one account/region
//   -c canary=false                        or AMAZON_LITE_CANARY=false; leaves out the synthetic shopper (the
//                                          Synthetics canary every 5 minutes, lib/canary.ts); default on
//   -c storefront=true                     or AMAZON_LITE_STOREFRONT=true; also deploys the shop (web/, OpenNext on
//                                          Lambda + S3 + CloudFront) as stack amazon-lite-shop; build it first
//                                          with `npm run build:open-next` in web/
import { App } from 'aws-cdk-lib';
import { AmazonLiteStack } from '../lib/amazon-lite-stack';
import { environmentFor } from '../lib/environments';
import type { GoogleSignInProps } from '../lib/auth';
import { parseLambdaArch } from '../lib/lambda-artifacts';
import { StorefrontStack } from '../lib/storefront';

const app = new App();
if (process.env.AMAZON_LITE_SKIP_BUNDLING === '1') {
  // Bundle no stack: the Lambda code becomes placeholders (tests, CI, cfn-lint).
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

// Google sign-in is on only with the client secret's ARN; then the client id
// and redirect URI are required (the stack throws without them).
const googleClientSecretArn = setting('googleClientSecretArn', 'AMAZON_LITE_GOOGLE_CLIENT_SECRET_ARN');
const google: GoogleSignInProps | undefined = googleClientSecretArn
  ? {
      clientSecretArn: googleClientSecretArn,
      clientId: setting('googleClientId', 'AMAZON_LITE_GOOGLE_CLIENT_ID') ?? '',
      redirectUri: setting('googleRedirectUri', 'AMAZON_LITE_GOOGLE_REDIRECT_URI') ?? '',
      issuer: setting('googleIssuer', 'AMAZON_LITE_GOOGLE_ISSUER'),
    }
  : undefined;
if (!google && setting('googleClientId', 'AMAZON_LITE_GOOGLE_CLIENT_ID')) {
  console.warn('googleClientId is set without googleClientSecretArn: Google sign-in stays off');
}

const paymentTimeout = setting('checkoutPaymentTimeoutSeconds', 'AMAZON_LITE_CHECKOUT_PAYMENT_TIMEOUT_SECONDS');
if (paymentTimeout !== undefined && !/^\d+$/.test(paymentTimeout.trim())) {
  throw new Error(`checkoutPaymentTimeoutSeconds=${JSON.stringify(paymentTimeout)} is not a whole number of seconds`);
}

const environment = environmentFor(app.node.tryGetContext('env'));

const api = new AmazonLiteStack(app, 'AmazonLiteStack', {
  // CloudFormation stack name (dev: amazon-lite; samconfig.toml's stack_name is
  // the same, so `cdk deploy` and `sam deploy`/`sam sync` address one stack).
  stackName: environment.stackName,
  environment,
  description: 'Amazon Lite: serverless Rust e-commerce backend',
  // No env: the stacks are environment-agnostic, so the templates name no
  // account or region (pseudo parameters instead) and deploy wherever the
  // CLI's credentials point; the synth needs no AWS account.
  lambdaArch: parseLambdaArch(setting('arch', 'AMAZON_LITE_ARCH')),
  corsOrigins,
  alarmEmail: setting('alarmEmail', 'AMAZON_LITE_ALARM_EMAIL'),
  adminEmail: setting('adminEmail', 'AMAZON_LITE_ADMIN_EMAIL'),
  adminBootstrapRevision: setting('adminBootstrapRevision', 'AMAZON_LITE_ADMIN_BOOTSTRAP_REVISION'),
  previousSigningSecretArn: setting('previousSigningSecretArn', 'AMAZON_LITE_PREVIOUS_SIGNING_SECRET_ARN'),
  google,
  checkoutPaymentTimeoutSeconds: paymentTimeout === undefined ? undefined : Number(paymentTimeout),
  notificationsFromAddress: setting('notificationsFromAddress', 'AMAZON_LITE_NOTIFICATIONS_FROM_ADDRESS'),
  searchCollectionName: setting('searchCollectionName', 'AMAZON_LITE_SEARCH_COLLECTION_NAME'),
  canary: setting('canary', 'AMAZON_LITE_CANARY') !== 'false',
});

if (setting('storefront', 'AMAZON_LITE_STOREFRONT') === 'true') {
  new StorefrontStack(app, 'AmazonLiteStorefront', {
    stackName: `${environment.stackName}-shop`,
    description: 'Amazon Lite: the shop (Next.js on Lambda via OpenNext, S3, CloudFront)',
    apiUrl: api.stage.url,
  });
}
