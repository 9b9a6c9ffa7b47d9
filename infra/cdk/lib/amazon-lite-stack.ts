// The whole Amazon Lite deployment: the single table, the HTTP API, one Lambda
// function per route (from infra/routes.json), the cursor key, alarms,
// dashboard and canary releases.
import * as path from 'node:path';
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
// cargo-lambda-cdk's RustFunction is exactly `lambda.Function` + this
// `Bundling.bundle(...)` code + provided.al2023 + handler `bootstrap`. Its
// index does not export Bundling, so it is imported from its module (the
// package is pinned; a moved module fails every test at import).
import { Bundling } from 'cargo-lambda-cdk/lib/bundling';
import { Construct } from 'constructs';
import { Auth } from './auth';
import { REPO_ROOT, type RouteSpec, type TableSpec, loadRoutes, loadTableSpec, servicesOf } from './config';
import { type AlarmThresholds, DEFAULT_ALARM_THRESHOLDS, Monitoring } from './monitoring';
import { RouteFunction } from './route-function';
import { createSingleTable } from './table';

export interface ThrottleLimits {
  /** Steady-state requests per second for the whole stage. */
  readonly rateLimit: number;
  /** Burst bucket size. */
  readonly burstLimit: number;
}

export interface AmazonLiteStackProps extends StackProps {
  /** Routes to deploy. Default: infra/routes.json. */
  readonly routes?: readonly RouteSpec[];
  /** Table shape. Default: infra/table.json. */
  readonly table?: TableSpec;
  /** Repository root holding functions/<service>/Cargo.toml. Default: two levels above infra/cdk. */
  readonly repoRoot?: string;
  /** Origins allowed by CORS (e.g. https://shop.example.com). Default: none, so no CORS configuration. */
  readonly corsOrigins?: readonly string[];
  /** Default-stage throttling. Default: 100 requests/s, burst 200. */
  readonly throttle?: ThrottleLimits;
  /** E-mail address subscribed to the alarm topic. Default: none. */
  readonly alarmEmail?: string;
  /** Memory of every function, MB. Default: 256. */
  readonly memorySize?: number;
  /** Timeout of every function. Default: 10 s (API Gateway gives up after 30 s). */
  readonly timeout?: Duration;
  readonly alarmThresholds?: AlarmThresholds;
}

export const DEFAULT_THROTTLE: ThrottleLimits = { rateLimit: 100, burstLimit: 200 };

// Headers the contract (shared/API.md) reads and sets.
const CORS_ALLOW_HEADERS = ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Cart-Token', 'X-Correlation-Id'];
const CORS_EXPOSE_HEADERS = [
  'X-Correlation-Id',
  'X-Cart-Token',
  'Location',
  'Retry-After',
  'RateLimit-Limit',
  'RateLimit-Remaining',
];

export class AmazonLiteStack extends Stack {
  readonly table;
  readonly httpApi: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly routeFunctions: RouteFunction[] = [];
  readonly cursorSecret: secretsmanager.Secret;
  readonly alarmTopic: sns.Topic;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: AmazonLiteStackProps = {}) {
    super(scope, id, props);
    const routes = props.routes ?? loadRoutes();
    const repoRoot = props.repoRoot ?? REPO_ROOT;
    const architecture = lambda.Architecture.ARM_64;

    this.table = createSingleTable(this, 'Table', props.table ?? loadTableSpec());

    // HMAC key that signs pagination cursors (opaque `?cursor=`), so a client
    // cannot forge a cursor into another partition.
    this.cursorSecret = new secretsmanager.Secret(this, 'CursorKey', {
      description: 'Amazon Lite: HMAC key for pagination cursors',
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
    });

    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', { displayName: 'Amazon Lite alarms', enforceSSL: true });
    if (props.alarmEmail) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }

    // ---- HTTP API -------------------------------------------------------
    const corsOrigins = props.corsOrigins ?? [];
    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      description: 'Amazon Lite public API (v1)',
      // The default stage is made below with throttling and access logs.
      createDefaultStage: false,
      corsPreflight:
        corsOrigins.length === 0
          ? undefined
          : {
              allowOrigins: [...corsOrigins],
              allowMethods: [...new Set(routes.map((r) => r.method))].map((m) => apigwv2.CorsHttpMethod[m]),
              allowHeaders: CORS_ALLOW_HEADERS,
              exposeHeaders: CORS_EXPOSE_HEADERS,
              // Bearer tokens, not cookies.
              allowCredentials: false,
              maxAge: Duration.hours(1),
            },
    });
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention: logs.RetentionDays.ONE_MONTH });
    const throttle = props.throttle ?? DEFAULT_THROTTLE;
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: throttle.rateLimit, burstLimit: throttle.burstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            ip: '$context.identity.sourceIp',
            userAgent: '$context.identity.userAgent',
            routeKey: '$context.routeKey',
            path: '$context.path',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            responseLatency: '$context.responseLatency',
            integrationLatency: '$context.integrationLatency',
            integrationStatus: '$context.integrationStatus',
            integrationError: '$context.integrationErrorMessage',
            error: '$context.error.message',
          }),
        ),
      },
    });

    // ---- Functions, one per route ---------------------------------------
    // Each service ships one artifact: the Code asset is built once per
    // service (one `cargo lambda build --release --arm64 --bin <service>`)
    // and that same Code object is given to every function of the service.
    // Binding one Code to N functions creates one S3 asset, so a deploy runs
    // one cargo build and one upload per service instead of one per route.
    // With bundling skipped (tests, CI, `AMAZON_LITE_SKIP_BUNDLING=1`) the
    // asset is CDK's placeholder and the stack still synthesizes.
    const codeByService = new Map<string, lambda.Code>();
    for (const service of servicesOf(routes)) {
      codeByService.set(
        service,
        Bundling.bundle({
          manifestPath: path.join(repoRoot, 'functions', service, 'Cargo.toml'),
          binaryName: service,
          architecture,
        }),
      );
    }

    const auth = new Auth(this, 'Auth');
    const deploymentApplication = new codedeploy.LambdaApplication(this, 'Releases');
    // One CodeDeploy service role for all deployment groups (a role per group
    // would add a resource per route for the same managed policy).
    const deploymentRole = new iam.Role(this, 'ReleasesRole', {
      assumedBy: new iam.ServicePrincipal('codedeploy.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSCodeDeployRoleForLambdaLimited')],
    });

    for (const route of routes) {
      this.routeFunctions.push(
        new RouteFunction(this, route.function, {
          route,
          code: codeByService.get(route.service)!,
          architecture,
          memorySize: props.memorySize ?? 256,
          timeout: props.timeout ?? Duration.seconds(10),
          logRetention: logs.RetentionDays.ONE_MONTH,
          httpApi: this.httpApi,
          table: this.table,
          cursorSecret: this.cursorSecret,
          auth: auth.forRoute(route),
          alarmTopic: this.alarmTopic,
          deploymentApplication,
          deploymentRole,
        }),
      );
    }

    this.monitoring = new Monitoring(this, 'Monitoring', {
      httpApi: this.httpApi,
      table: this.table,
      functions: this.routeFunctions,
      alarmTopic: this.alarmTopic,
      thresholds: props.alarmThresholds ?? DEFAULT_ALARM_THRESHOLDS,
    });

    new CfnOutput(this, 'ApiUrl', { description: 'Base URL of the HTTP API', value: this.stage.url });
    new CfnOutput(this, 'TableName', { description: 'The single DynamoDB table', value: this.table.tableName });
  }
}
