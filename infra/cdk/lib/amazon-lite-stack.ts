// The whole Amazon Lite deployment: the single table, the HTTP API, one Lambda
// function per route (from infra/routes.json) in one nested stack per
// service (service-stack.ts), the events backbone (outbox relay,
// EventBridge bus, one queue + DLQ + function per consumer from
// infra/consumers.json), the cursor and signing keys, alarms, dashboard and
// canary releases, and the commerce core: the checkout saga (Step Functions
// state machine + task functions + reservation sweeper, checkout.ts) in a
// nested stack of its own, and the payment webhook secret (payments.ts);
// product search on an OpenSearch Serverless collection (search.ts, in the
// search service's nested stack) and the notification e-mails' SES sender, a
// stack parameter (notifications.ts).
//
// Root stack: table, API + stage + access logs, secrets, alarm topic,
// CodeDeploy application and role, events backbone, stack-wide alarms and
// the dashboard, and one AWS::CloudFormation::Stack per service.
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { ADMIN_BOOTSTRAP_BINARY, ADMIN_BOOTSTRAP_SERVICE, AdminBootstrap } from './admin-bootstrap';
import { CheckoutSaga } from './checkout';
import { Auth, type GoogleSignInProps } from './auth';
import {
  type ConsumerSpec,
  type RouteSpec,
  type TableSpec,
  loadConsumers,
  loadRoutes,
  loadTableSpec,
  servicesOf,
} from './config';
import { EventsBackbone, RELAY_FUNCTION } from './events';
import { DEFAULT_LAMBDA_ARCH, type LambdaArch, LambdaArtifacts, defaultArtifactsDir } from './lambda-artifacts';
import { Monitoring } from './monitoring';
import { OperationsAlarms, addRoute5xxAlarm } from './alarms';
import { parseAlarmEmails } from './alarm-topic';
import { type AlarmThresholds, ENVIRONMENTS, type EnvironmentConfig } from './environments';
import { METRICS_NAMESPACE_ENV, MetricCatalog } from './metric-catalog';
import { ApiCanary } from './canary';
import { SavedQueries } from './queries';
import { FeatureFlags } from './flags';
import { RESOURCE_BUDGET, enforceResourceBudget } from './limits';
import { NotificationsWiring } from './notifications';
import { CommerceWiring, DEFAULT_CHECKOUT_PAYMENT_TIMEOUT_SECONDS, createPaymentWebhookSecret } from './payments';
import type { RouteFunction } from './route-function';
import { DEFAULT_SEARCH_INDEX, SearchWiring, checkCollectionName, searchCollectionName } from './search';
import { ServiceStack, type SharedRouteProps, serviceStackId } from './service-stack';
import { createSingleTable } from './table';
import { combine } from './wiring';

export interface ThrottleLimits {
  /** Steady-state requests per second for the whole stage. */
  readonly rateLimit: number;
  /** Burst bucket size. */
  readonly burstLimit: number;
}

export interface AmazonLiteStackProps extends StackProps {
  /** Routes to deploy. Default: infra/routes.json. */
  readonly routes?: readonly RouteSpec[];
  /** Event consumers to deploy. Default: infra/consumers.json. */
  readonly consumers?: readonly ConsumerSpec[];
  /** Table shape. Default: infra/table.json. */
  readonly table?: TableSpec;
  /** Architecture of every function (`-c arch=`); the artifacts must be built for it. Default arm64. */
  readonly lambdaArch?: LambdaArch;
  /**
   * The folder `scripts/build-lambdas` wrote (<binary>/bootstrap.zip and
   * manifest.json). Default: $CARGO_TARGET_DIR/lambda, else <repo>/target/lambda.
   * Not read when bundling is skipped (placeholder code).
   */
  readonly lambdaArtifactsDir?: string;
  /** Origins allowed by CORS (e.g. https://shop.example.com). Default: none, so no CORS configuration. */
  readonly corsOrigins?: readonly string[];
  /** Default-stage throttling. Default: the environment's. */
  readonly throttle?: ThrottleLimits;
  /**
   * E-mail addresses subscribed to the alarm topic, comma-separated
   * (`-c alarmEmail=a@x,b@y`). Default: none.
   */
  readonly alarmEmail?: string;
  /**
   * The environment (`-c env`, environments.ts): explicit names, memory,
   * log retention, throttling, table protection, alarm thresholds, metrics
   * namespace. Default dev.
   */
  readonly environment?: EnvironmentConfig;
  /** Memory of every function, MB. Default: the environment's. */
  readonly memorySize?: number;
  /** Timeout of every function. Default: 10 s (API Gateway gives up after 30 s). */
  readonly timeout?: Duration;
  /** Overrides of the environment's alarm thresholds. */
  readonly alarmThresholds?: Partial<AlarmThresholds>;
  /** The synthetic journey against the API every 5 minutes (canary.ts). Default true. */
  readonly canary?: boolean;
  /** Complete ARN of the secret holding the previous token signing key (key rotation). Default: none. */
  readonly previousSigningSecretArn?: string;
  /** Google sign-in. Default: off (the Google routes answer 503). */
  readonly google?: GoogleSignInProps;
  /**
   * E-mail address of the administrator account created at deploy (a
   * generated secret holds its password; lib/admin-bootstrap.ts). Default:
   * none, so no administrator is created.
   */
  readonly adminEmail?: string;
  /** Change it to run the administrator bootstrap again. Default '1'. */
  readonly adminBootstrapRevision?: string;
  /** Most CloudFormation resources any one stack (root or nested) may have. Default RESOURCE_BUDGET (450). */
  readonly resourceBudget?: number;
  /**
   * How long a checkout waits for the payment provider's answer before it
   * compensates (`CHECKOUT_PAYMENT_TIMEOUT_SECS` of the checkout-start
   * consumer; the saga's `TimeoutSecondsPath`). Whole seconds, 60 to 86400.
   * Default 900.
   */
  readonly checkoutPaymentTimeoutSeconds?: number;
  /** Name of the checkout state machine. Default `<stack name>-checkout`. */
  readonly checkoutStateMachineName?: string;
  /**
   * Name of the OpenSearch Serverless collection (unique per account and
   * region; 3 to 32 lower-case letters, digits, hyphens). Default
   * `<stack name>-search` (shortened with a hash when too long).
   */
  readonly searchCollectionName?: string;
  /** The OpenSearch index (OPENSEARCH_INDEX). Default `products`. */
  readonly searchIndexName?: string;
  /** Standby replicas of the collection (a second AZ, twice the minimum capacity). Default true. */
  readonly searchStandbyReplicas?: boolean;
  /**
   * Default of the `NotificationsFromAddress` parameter: the sender of the
   * notification e-mails, an address of a verified SES identity. Default:
   * none, so a deploy must pass the parameter.
   */
  readonly notificationsFromAddress?: string;
}

export const MIN_PAYMENT_TIMEOUT_SECONDS = 60;
export const MAX_PAYMENT_TIMEOUT_SECONDS = 86400;

function checkPaymentTimeout(seconds: number): number {
  if (!Number.isInteger(seconds) || seconds < MIN_PAYMENT_TIMEOUT_SECONDS || seconds > MAX_PAYMENT_TIMEOUT_SECONDS) {
    throw new Error(
      `checkoutPaymentTimeoutSeconds must be a whole number of seconds from ${MIN_PAYMENT_TIMEOUT_SECONDS} to ` +
        `${MAX_PAYMENT_TIMEOUT_SECONDS}, not ${seconds}`,
    );
  }
  return seconds;
}

// Step Functions: 1 to 80 letters, digits, '-' or '_'.
const STATE_MACHINE_NAME = /^[A-Za-z0-9_-]{1,80}$/;

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
  /** Every route's function, over all services. */
  readonly routeFunctions: RouteFunction[] = [];
  /** One nested stack per service, in order of first appearance in the routes. */
  readonly services: ServiceStack[] = [];
  readonly cursorSecret: secretsmanager.Secret;
  readonly auth: Auth;
  readonly alarmTopic: sns.Topic;
  readonly monitoring: Monitoring;
  readonly events: EventsBackbone;
  readonly adminBootstrap?: AdminBootstrap;
  /** The sandbox payment provider's webhook signing key. */
  readonly paymentWebhookSecret: secretsmanager.Secret;
  /** The checkout saga's nested stack. */
  readonly checkout: CheckoutSaga;
  /** The search collection and its policies' wiring (search.ts). */
  readonly search: SearchWiring;
  /** The notification sender parameter's wiring (notifications.ts). */
  readonly notifications: NotificationsWiring;
  /** The Lambda code: prebuilt zips or placeholders, and the binaries asked for. */
  readonly artifacts: LambdaArtifacts;
  /** One handled-5xx alarm per route (in its service's stack, a rollback alarm of its deployment group). */
  readonly route5xxAlarms: cloudwatch.Alarm[];
  readonly operationsAlarms: OperationsAlarms;
  /** The synthetic journey (unless `canary: false`). */
  readonly canary?: ApiCanary;
  readonly queries: SavedQueries;
  /** Runtime flags on AppConfig, read by the functions that use them (flags.ts). */
  readonly flags: FeatureFlags;

  constructor(scope: Construct, id: string, props: AmazonLiteStackProps = {}) {
    super(scope, id, props);
    const environment = props.environment ?? ENVIRONMENTS.dev;
    const thresholds: AlarmThresholds = { ...environment.alarms, ...props.alarmThresholds };
    const memorySize = props.memorySize ?? environment.memorySize;
    const logRetention = environment.logRetention;
    const catalog = new MetricCatalog(environment.metricsNamespace);
    const routes = props.routes ?? loadRoutes();
    const consumers = props.consumers ?? loadConsumers();
    const functionNames = new Set([...routes.map((r) => r.function), RELAY_FUNCTION]);
    for (const c of consumers) {
      if (functionNames.has(c.name)) throw new Error(`consumer ${c.name}: a function of that name exists already`);
    }
    Auth.checkRoutes(routes);
    CommerceWiring.check(routes, consumers);
    SearchWiring.check(consumers);
    NotificationsWiring.check(consumers);
    const paymentTimeoutSeconds = checkPaymentTimeout(props.checkoutPaymentTimeoutSeconds ?? DEFAULT_CHECKOUT_PAYMENT_TIMEOUT_SECONDS);
    const stateMachineName = props.checkoutStateMachineName ?? `${this.stackName}-checkout`;
    if (!STATE_MACHINE_NAME.test(stateMachineName)) {
      throw new Error(`checkoutStateMachineName ${JSON.stringify(stateMachineName)}: 1 to 80 letters, digits, '-' or '_'`);
    }
    // Prebuilt zips (lambda-artifacts.ts); placeholders when this stack is
    // not bundled (`aws:cdk:bundling-stacks` context: tests, CI,
    // AMAZON_LITE_SKIP_BUNDLING=1, or a CLI run that selects another stack).
    this.artifacts = new LambdaArtifacts({
      arch: props.lambdaArch ?? DEFAULT_LAMBDA_ARCH,
      dir: props.lambdaArtifactsDir ?? defaultArtifactsDir(),
      prebuilt: this.bundlingRequired,
    });
    const architecture = this.artifacts.architecture;

    this.table = createSingleTable(this, 'Table', props.table ?? loadTableSpec(), {
      deletionProtection: environment.tableDeletionProtection,
      pointInTimeRecovery: environment.pointInTimeRecovery,
      removalPolicy: environment.tableRemovalPolicy,
    });

    // HMAC key that signs pagination cursors (opaque `?cursor=`), so a client
    // cannot forge a cursor into another partition.
    this.cursorSecret = new secretsmanager.Secret(this, 'CursorKey', {
      description: 'Amazon Lite: HMAC key for pagination cursors',
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
    });

    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', { displayName: 'Amazon Lite alarms', enforceSSL: true });
    for (const email of parseAlarmEmails(props.alarmEmail)) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(email));
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
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention: logRetention });
    const throttle = props.throttle ?? environment.throttle;
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

    // ---- Functions, one per route, one nested stack per service -----------
    // Each binary ships one artifact (scripts/build-lambdas built them all in
    // one pass): one Code per binary and stack, and one S3 object per binary
    // since the Code objects of a binary share its zip's hash. The same
    // holds for the event functions.
    const codeByBinary = new Map<string, lambda.Code>();
    const code = (scope: Construct, _service: string, binary: string): lambda.Code => {
      // A Code object binds to the stack of its first function only.
      const key = `${Stack.of(scope).node.path}|${binary}`;
      let c = codeByBinary.get(key);
      if (!c) {
        c = this.artifacts.code(binary);
        codeByBinary.set(key, c);
      }
      return c;
    };

    this.auth = new Auth(this, 'Auth', { previousSigningSecretArn: props.previousSigningSecretArn, google: props.google });
    const deploymentApplication = new codedeploy.LambdaApplication(this, 'Releases');
    // One CodeDeploy service role for all deployment groups (a role per group
    // would add a resource per route for the same managed policy).
    const deploymentRole = new iam.Role(this, 'ReleasesRole', {
      assumedBy: new iam.ServicePrincipal('codedeploy.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSCodeDeployRoleForLambdaLimited')],
    });
    const shared: SharedRouteProps = {
      architecture,
      memorySize,
      timeout: props.timeout ?? Duration.seconds(10),
      logRetention,
      httpApi: this.httpApi,
      table: this.table,
      cursorSecret: this.cursorSecret,
      alarmTopic: this.alarmTopic,
      deploymentApplication,
      deploymentRole,
    };
    const budget = props.resourceBudget ?? RESOURCE_BUDGET;
    this.paymentWebhookSecret = createPaymentWebhookSecret(this);
    const commerce = new CommerceWiring(this, {
      webhookSecret: this.paymentWebhookSecret,
      stateMachineName,
      paymentTimeoutSeconds,
    });
    this.search = new SearchWiring(this, {
      collectionName: checkCollectionName(props.searchCollectionName ?? searchCollectionName(this.stackName)),
      indexName: props.searchIndexName ?? DEFAULT_SEARCH_INDEX,
      standbyReplicas: props.searchStandbyReplicas,
      cursorSecret: this.cursorSecret,
    });
    this.notifications = new NotificationsWiring(this, { consumers, fromAddress: props.notificationsFromAddress });
    for (const service of servicesOf(routes)) {
      const stack = new ServiceStack(this, serviceStackId(service), {
        service,
        routes: routes.filter((r) => r.service === service),
        code,
        auth: this.auth,
        wiring: (route, scope) =>
          combine(commerce.forRoute(route), this.search.forRoute(route, scope), this.notifications.forRoute(route)),
        shared,
        resourceBudget: budget,
      });
      this.services.push(stack);
      this.routeFunctions.push(...stack.routeFunctions);
    }

    this.events = new EventsBackbone(this, 'Events', {
      table: this.table,
      consumers,
      code: (service, binary) => code(this, service, binary),
      architecture,
      memorySize,
      logRetention,
      alarmTopic: this.alarmTopic,
      consumerWiring: (spec) =>
        combine(commerce.forConsumer(spec), this.search.forConsumer(spec), this.notifications.forConsumer(spec)),
      // The bus is the one named resource of the backbone: one per environment.
      busName: environment.stackName,
    });

    this.checkout = new CheckoutSaga(this, 'CheckoutSaga', {
      table: this.table,
      webhookSecret: this.paymentWebhookSecret,
      apiEndpoint: this.httpApi.apiEndpoint,
      alarmTopic: this.alarmTopic,
      code,
      architecture,
      memorySize,
      logRetention,
      stateMachineName,
      resourceBudget: budget,
    });

    if (props.adminEmail !== undefined) {
      this.adminBootstrap = new AdminBootstrap(this, 'AdminBootstrap', {
        email: props.adminEmail,
        revision: props.adminBootstrapRevision,
        table: this.table,
        code: code(this, ADMIN_BOOTSTRAP_SERVICE, ADMIN_BOOTSTRAP_BINARY),
        architecture,
        memorySize,
        logRetention,
        signingSecretArn: this.auth.signingSecret.secretArn,
        previousSigningSecretArn: this.auth.previousSigningSecretArn,
      });
    }

    this.flags = new FeatureFlags(this, 'Flags', {
      applicationName: environment.stackName,
      environmentName: environment.name,
      architecture,
      routeFunctions: this.routeFunctions,
      consumers: this.events.consumers,
    });

    // ---- Operations (alarms.ts, canary.ts, queries.ts, monitoring.ts) -----
    this.route5xxAlarms = this.routeFunctions.map((rf) => addRoute5xxAlarm(rf, catalog, thresholds, this.alarmTopic));
    this.operationsAlarms = new OperationsAlarms(this, 'OperationsAlarms', {
      catalog,
      thresholds,
      alarmTopic: this.alarmTopic,
      consumers: this.events.consumers,
      paymentTimeoutSeconds,
      search: this.search.collection,
    });
    if (props.canary ?? true) {
      this.canary = new ApiCanary(this, 'Canary', {
        stackName: environment.stackName,
        apiUrl: this.stage.url,
        alarmTopic: this.alarmTopic,
        successPercent: thresholds.canarySuccessPercent,
      });
    }
    this.queries = new SavedQueries(this, 'Queries', {
      prefix: environment.stackName,
      accessLogs,
      routeFunctions: this.routeFunctions,
      consumers: this.events.consumers,
      relay: this.events.relay,
      checkout: this.checkout,
    });
    // Every Rust function (routes, consumers, relay, saga tasks, sweeper,
    // bootstrap) emits its metrics to the environment's namespace.
    for (const c of this.node.findAll()) {
      // (The Rust functions: not what CDK adds for custom resources.)
      if (c instanceof lambda.Function && c.runtime === lambda.Runtime.PROVIDED_AL2023) {
        c.addEnvironment(METRICS_NAMESPACE_ENV, environment.metricsNamespace);
      }
    }

    this.monitoring = new Monitoring(this, 'Monitoring', {
      httpApi: this.httpApi,
      table: this.table,
      functions: this.routeFunctions,
      alarmTopic: this.alarmTopic,
      thresholds,
      catalog,
      events: this.events,
      route5xxAlarms: this.route5xxAlarms,
      operationsAlarms: [...this.operationsAlarms.alarms.map((a) => a.alarm), ...(this.canary ? [this.canary.alarm] : [])],
      canary: this.canary,
    });
    this.monitoring.dashboard.addWidgets(...this.events.widgets());
    this.monitoring.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Event alarms', width: 24, alarms: this.events.alarms }),
    );
    this.monitoring.dashboard.addWidgets(...this.checkout.widgets());
    this.monitoring.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Checkout alarms', width: 24, alarms: this.checkout.allAlarms() }),
    );

    enforceResourceBudget(
      this,
      budget,
      'The root holds the shared pieces, the event consumers (~12 resources each) and one nested stack per service: ' +
        'move the event consumers into a nested stack of their own.',
    );

    new CfnOutput(this, 'ApiUrl', { description: 'Base URL of the HTTP API', value: this.stage.url });
    new CfnOutput(this, 'TableName', { description: 'The single DynamoDB table', value: this.table.tableName });
    new CfnOutput(this, 'SigningSecretArn', {
      description: 'The access token signing key (Secrets Manager); see README "Rotating the signing key"',
      value: this.auth.signingSecret.secretArn,
    });
    new CfnOutput(this, 'PaymentWebhookSecretArn', {
      description: "The sandbox payment provider's webhook signing key (aws secretsmanager get-secret-value)",
      value: this.paymentWebhookSecret.secretArn,
    });
    new CfnOutput(this, 'CheckoutStateMachineArn', {
      description: 'The checkout saga (Step Functions); executions are named after their order',
      value: this.checkout.stateMachineArn,
    });
    const search = this.search.collection;
    if (search) {
      new CfnOutput(this, 'SearchCollectionEndpoint', {
        description: `The OpenSearch Serverless collection ${search.collectionName} (index ${search.indexName})`,
        value: search.endpoint,
      });
    }
    if (this.adminBootstrap) {
      new CfnOutput(this, 'AdminSecretArn', {
        description: `The administrator account ${this.adminBootstrap.email}: its password is in this secret (aws secretsmanager get-secret-value)`,
        value: this.adminBootstrap.secret.secretArn,
      });
    }
  }
}
