// One API route = one Lambda function with its own role, log group, `live`
// alias, error alarm, CodeDeploy canary and API Gateway route. The function
// runs its service's binary (the service's whole axum router); API Gateway
// only ever sends it this route's requests, and its role allows only what this
// route needs. Created inside its service's nested stack (service-stack.ts);
// the API, table, secrets, topic and CodeDeploy application it references
// are the root stack's (CloudFormation parameters of the nested stack).
import { Duration, RemovalPolicy, Tags } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { RouteAuthWiring } from './auth';
import { type RouteSpec, routeKey } from './config';
import { KIND_TAG } from './events';
import { authStatements, tableAccessStatements } from './table-access';
import type { FunctionWiring } from './wiring';

export const LIVE_ALIAS = 'live';

export interface RouteFunctionProps {
  readonly route: RouteSpec;
  /** The service's code asset, shared by all functions of the service. */
  readonly code: lambda.Code;
  readonly architecture: lambda.Architecture;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly logRetention: logs.RetentionDays;
  readonly httpApi: apigwv2.HttpApi;
  readonly table: dynamodb.ITable;
  readonly cursorSecret: secretsmanager.ISecret;
  readonly auth: RouteAuthWiring;
  /** The route's other variables and grants (payments.ts). Default none. */
  readonly wiring?: FunctionWiring;
  readonly alarmTopic: sns.ITopic;
  readonly deploymentApplication: codedeploy.ILambdaApplication;
  readonly deploymentRole: iam.IRole;
}

export class RouteFunction extends Construct {
  readonly route: RouteSpec;
  readonly function: lambda.Function;
  readonly alias: lambda.Alias;
  readonly errorAlarm: cloudwatch.Alarm;
  /** The alias's canary releases; more alarms roll them back (`addAlarm`, alarms.ts). */
  readonly deployment: codedeploy.LambdaDeploymentGroup;
  readonly httpRoute: apigwv2.HttpRoute;

  constructor(scope: Construct, id: string, props: RouteFunctionProps) {
    super(scope, id);
    const { route } = props;
    this.route = route;

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      // Logs are not the system of record; let a stack delete remove them.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.function = new lambda.Function(this, 'Function', {
      description: `Amazon Lite ${route.function}: ${routeKey(route)}`,
      runtime: lambda.Runtime.PROVIDED_AL2023,
      architecture: props.architecture,
      handler: 'bootstrap',
      code: props.code,
      memorySize: props.memorySize,
      timeout: props.timeout,
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      environment: {
        // Every function of a service runs the same binary with the same
        // start-up code, so all get the same variables; what differs is
        // what their role allows.
        TABLE_NAME: props.table.tableName,
        RUST_LOG: 'info',
        AMAZON_LITE_CURSOR_SECRET_ARN: props.cursorSecret.secretArn,
        ...props.auth.environment,
        ...props.wiring?.environment,
      },
    });
    Tags.of(this.function).add(KIND_TAG, 'route');
    Tags.of(this.function).add('amazon-lite:service', route.service);
    Tags.of(this.function).add('amazon-lite:function', route.function);

    for (const statement of tableAccessStatements(props.table, route.table)) {
      this.function.addToRolePolicy(statement);
    }
    // Token verification reads sessions and published keys.
    for (const statement of authStatements(props.table, route)) {
      this.function.addToRolePolicy(statement);
    }
    if (route.table !== 'none') {
      // Only table users paginate, so only they read the cursor HMAC key.
      // GetSecretValue alone (secret.grantRead would add DescribeSecret).
      this.function.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'CursorKeyRead',
          actions: ['secretsmanager:GetSecretValue'],
          resources: [props.cursorSecret.secretArn],
        }),
      );
    }
    props.auth.grant(this.function);
    props.wiring?.grant(this.function);

    // API Gateway invokes the alias; CodeDeploy shifts the alias from the
    // old version to the new one (10 % for 5 minutes), and rolls back when
    // the alias's error alarm fires meanwhile.
    this.alias = new lambda.Alias(this, 'Live', {
      aliasName: LIVE_ALIAS,
      version: this.function.currentVersion,
    });

    this.errorAlarm = new cloudwatch.Alarm(this, 'Errors', {
      alarmDescription: `${route.function} (${routeKey(route)}) returned errors`,
      metric: this.alias.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.errorAlarm.addAlarmAction(new cw_actions.SnsAction(props.alarmTopic));

    this.deployment = new codedeploy.LambdaDeploymentGroup(this, 'Deployment', {
      application: props.deploymentApplication,
      alias: this.alias,
      deploymentConfig: codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
      alarms: [this.errorAlarm],
      role: props.deploymentRole,
    });

    this.httpRoute = new apigwv2.HttpRoute(this, 'Route', {
      httpApi: props.httpApi,
      routeKey: apigwv2.HttpRouteKey.with(route.path, apigwv2.HttpMethod[route.method]),
      integration: new HttpLambdaIntegration('Integration', this.alias, {
        payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
      }),
      authorizer: props.auth.authorizer,
    });
  }
}
