// Runtime feature flags on AWS AppConfig (lite_flags::AppConfigFlags):
// one application per stack, one environment named after the stack's
// environment (dev, staging, prod), one freeform configuration profile
// whose first hosted version is infra/flags.json (validated against
// infra/flags.schema.json, as every later deployment is), a quick
// deployment strategy, and on the functions that read flags — and only
// those — the AppConfig Lambda extension's layer, the variables naming the
// configuration and the permission to read it.
//
// The functions ask the extension on localhost:2772; it polls AppConfig
// and caches the configuration, and they cache its answer for 5 s. So a
// flip is a new AppConfig deployment (README, "Runtime flags"), in force
// within about a poll interval plus the deployment's duration.
//
// The layer's ARN depends on the region and the architecture. The region
// is not baked in at synth: the ARNs AWS publishes (aws-cdk-lib's
// appconfig `Application.getLambdaLayerVersionArn` table) go into a
// CfnMapping keyed by region in each stack with a reader, looked up with
// AWS::Region at deploy. A region missing from the table fails the deploy
// on the lookup; `-c appConfigExtensionLayerArn=<arn>` then names the
// layer explicitly.
import * as path from 'node:path';
import { Aws, CfnMapping, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';
import type { Consumer } from './events';
import type { RouteFunction } from './route-function';

/** The routes whose functions read flags: `searchCatalogFallback`, `checkoutPaused`. */
export const FLAG_ROUTES: readonly string[] = ['GET /v1/search', 'POST /v1/orders'];
/** The consumers that read flags: `paymentTimeoutSeconds` (checkout-start starts the saga). */
export const FLAG_CONSUMERS: readonly string[] = ['checkout-start'];

/** What a reader may do, on its one configuration profile. */
export const FLAG_READ_ACTIONS: readonly string[] = ['appconfig:StartConfigurationSession', 'appconfig:GetLatestConfiguration'];

/** Read by lite_flags::AppConfigLocation::from_env. */
export const FLAGS_APPLICATION_ENV = 'AMAZON_LITE_FLAGS_APPLICATION';
export const FLAGS_ENVIRONMENT_ENV = 'AMAZON_LITE_FLAGS_ENVIRONMENT';
export const FLAGS_PROFILE_ENV = 'AMAZON_LITE_FLAGS_PROFILE';

/** How often the extension asks AppConfig for a new version (its default is 45 s). */
export const EXTENSION_POLL_SECONDS = 15;

const INFRA = path.join(__dirname, '..', '..');
export const DEFAULT_FLAGS_FILE = path.join(INFRA, 'flags.json');
export const FLAGS_SCHEMA_FILE = path.join(INFRA, 'flags.schema.json');

export interface FeatureFlagsProps {
  /** The AppConfig application's name (the stack's environment stack name). */
  readonly applicationName: string;
  /** The AppConfig environment's name (dev, staging, prod). */
  readonly environmentName: string;
  /** Every function's architecture (picks the layer). */
  readonly architecture: lambda.Architecture;
  readonly routeFunctions: readonly RouteFunction[];
  readonly consumers: readonly Consumer[];
  /**
   * The extension layer's ARN, for a region the table lacks. Default: the
   * `appConfigExtensionLayerArn` context value, else the table's, by region.
   */
  readonly layerArn?: string;
}

export class FeatureFlags extends Construct {
  readonly application: appconfig.Application;
  readonly environment: appconfig.Environment;
  readonly configuration: appconfig.HostedConfiguration;
  readonly strategy: appconfig.DeploymentStrategy;
  /** The functions given the extension, the variables and the read grant. */
  readonly readers: lambda.Function[] = [];

  constructor(scope: Construct, id: string, props: FeatureFlagsProps) {
    super(scope, id);
    this.application = new appconfig.Application(this, 'Application', {
      applicationName: props.applicationName,
      description: 'Amazon Lite runtime flags',
    });
    this.environment = new appconfig.Environment(this, 'Environment', {
      application: this.application,
      environmentName: props.environmentName,
    });
    // Flags are switches pulled in an incident (pause checkout, take search
    // off the engine): all at once, with a short bake.
    this.strategy = new appconfig.DeploymentStrategy(this, 'Strategy', {
      deploymentStrategyName: `${props.applicationName}-flags-all-at-once`,
      rolloutStrategy: appconfig.RolloutStrategy.linear({
        growthFactor: 100,
        deploymentDuration: Duration.minutes(0),
        finalBakeTime: Duration.minutes(1),
      }),
      description: 'Amazon Lite flags: all at once',
    });
    this.configuration = new appconfig.HostedConfiguration(this, 'Flags', {
      application: this.application,
      name: 'flags',
      description: 'lite_flags::Flags (infra/flags.schema.json)',
      type: appconfig.ConfigurationType.FREEFORM,
      content: appconfig.ConfigurationContent.fromFile(DEFAULT_FLAGS_FILE, 'application/json'),
      validators: [appconfig.JsonSchemaValidator.fromFile(FLAGS_SCHEMA_FILE)],
      deploymentStrategy: this.strategy,
      deployTo: [this.environment],
    });

    // What a flip needs (README, "Runtime flags").
    const output = (id: string, value: string, description: string) =>
      new CfnOutput(Stack.of(this), id, { value, description });
    output('FlagsApplicationId', this.application.applicationId, 'AppConfig application of the runtime flags');
    output('FlagsEnvironmentId', this.environment.environmentId, 'AppConfig environment of the runtime flags');
    output('FlagsProfileId', this.configuration.configurationProfileId, 'AppConfig configuration profile of the runtime flags');
    output('FlagsStrategyId', this.strategy.deploymentStrategyId, 'AppConfig deployment strategy for the runtime flags');

    const layer: string | undefined = props.layerArn ?? this.node.tryGetContext('appConfigExtensionLayerArn');
    const routes = new Map(props.routeFunctions.map((rf) => [`${rf.route.method} ${rf.route.path}`, rf.function]));
    const consumers = new Map(props.consumers.map((c) => [c.spec.name, c.function]));
    // A stack deploys a subset of the routes in tests: wire the readers it has.
    const readers = [
      ...FLAG_ROUTES.map((key) => routes.get(key)),
      ...FLAG_CONSUMERS.map((name) => consumers.get(name)),
    ].filter((f): f is lambda.Function => f !== undefined);
    for (const f of readers) this.addReader(f, props.architecture, layer);
  }

  /** The configuration profile's ARN (what a reader may read). */
  get profileArn(): string {
    const s = Stack.of(this);
    return s.formatArn({
      service: 'appconfig',
      resource: 'application',
      resourceName: `${this.application.applicationId}/environment/${this.environment.environmentId}/configuration/${this.configuration.configurationProfileId}`,
    });
  }

  private addReader(f: lambda.Function, architecture: lambda.Architecture, layer: string | undefined): void {
    const where = `/applications/${this.application.applicationId}/environments/${this.environment.environmentId}/configurations/${this.configuration.configurationProfileId}`;
    f.addLayers(lambda.LayerVersion.fromLayerVersionArn(f, 'AppConfigExtension', layer ?? layerArn(f, architecture)));
    f.addEnvironment(FLAGS_APPLICATION_ENV, this.application.applicationId);
    f.addEnvironment(FLAGS_ENVIRONMENT_ENV, this.environment.environmentId);
    f.addEnvironment(FLAGS_PROFILE_ENV, this.configuration.configurationProfileId);
    // The extension fetches the flags during init, and polls.
    f.addEnvironment('AWS_APPCONFIG_EXTENSION_PREFETCH_LIST', where);
    f.addEnvironment('AWS_APPCONFIG_EXTENSION_POLL_INTERVAL_SECONDS', String(EXTENSION_POLL_SECONDS));
    f.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [...FLAG_READ_ACTIONS],
        resources: [this.profileArn],
      }),
    );
    this.readers.push(f);
  }
}

/** The extension's layer ARNs AWS publishes for `architecture`, by region. */
export function publishedLayerArns(architecture: lambda.Architecture): Record<string, string> {
  const platform = architecture === lambda.Architecture.ARM_64 ? appconfig.Platform.ARM_64 : appconfig.Platform.X86_64;
  const arns: Record<string, string> = {};
  for (const region of RegionInfo.regions.map((r) => r.name).sort()) {
    const arn = appconfig.Application.getLambdaLayerVersionArn(region, platform);
    if (arn) arns[region] = arn;
  }
  return arns;
}

/** The layer for the function's stack's region: a lookup at deploy in a mapping of that stack. */
function layerArn(scope: Construct, architecture: lambda.Architecture): string {
  const stack = Stack.of(scope);
  const id = 'AppConfigExtensionLayers';
  const mapping =
    (stack.node.tryFindChild(id) as CfnMapping | undefined) ??
    new CfnMapping(stack, id, {
      mapping: Object.fromEntries(Object.entries(publishedLayerArns(architecture)).map(([r, arn]) => [r, { arn }])),
    });
  return mapping.findInMap(Aws.REGION, 'arn');
}
