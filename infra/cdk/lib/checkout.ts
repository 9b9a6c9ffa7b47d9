// The checkout saga (DESIGN.md "Checkout"; Rust side: functions/checkout,
// the definition infra/checkout.asl.json, run as is by the local
// interpreter in shared/saga) in a nested stack of its own:
//
//   - one Lambda function per task state, all from crate `checkout`, binary
//     `checkout-task` (one code asset), `CHECKOUT_TASK` naming the one task a
//     function runs, read/write on the table's items (no index, never Scan),
//     an errors alarm each;
//   - the Step Functions STANDARD state machine from checkout.asl.json, each
//     `${<Task>Function}` placeholder substituted with its function's ARN;
//     its role may invoke exactly those functions; logs (ERROR, without
//     execution data: inputs hold payment tokens) and X-Ray; alarms on
//     failed, timed-out, aborted and throttled executions;
//   - the reservation sweeper (reservation-sweeper.ts): every minute,
//     releases the stock of holds that ran out.
//
// authorizePayment is the task that talks to the payment provider: the
// sandbox posts its signed webhook to the API (PAYMENT_WEBHOOK_URL, the
// root's API endpoint, a parameter of this stack) and resumes the waiting
// task when it answers synchronously, so it also reads the webhook secret
// and may SendTaskSuccess/SendTaskFailure on the state machine. Its
// CHECKOUT_STATE_MACHINE_ARN is built from the state machine's name rather
// than referenced: the state machine references the function (its
// definition), so a reference back would be a circular dependency.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration, NestedStack, RemovalPolicy, Tags } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { INFRA_DIR } from './config';
import { KIND_TAG } from './events';
import { RESOURCE_BUDGET, enforceResourceBudget } from './limits';
import {
  CHECKOUT_STATE_MACHINE_ENV,
  PAYMENT_WEBHOOK_PATH,
  PAYMENT_WEBHOOK_SECRET_ENV,
  PAYMENT_WEBHOOK_URL_ENV,
  stateMachineArnOf,
  taskResponse,
  webhookSecretRead,
} from './payments';
import { ReservationSweeper } from './reservation-sweeper';
import { ITEM_ACTIONS } from './table-access';

export const CHECKOUT_DEFINITION_FILE = path.join(INFRA_DIR, 'checkout.asl.json');
export const CHECKOUT_SERVICE = 'checkout';
export const CHECKOUT_TASK_BINARY = 'checkout-task';
export const CHECKOUT_TASK_ENV = 'CHECKOUT_TASK';

/** The saga's tasks: the `task` of its payload (CHECKOUT_TASK) and its definition placeholder. */
export const CHECKOUT_TASKS = [
  { task: 'reserveStock', placeholder: 'ReserveStockFunction' },
  { task: 'authorizePayment', placeholder: 'AuthorizePaymentFunction' },
  { task: 'commitStock', placeholder: 'CommitStockFunction' },
  { task: 'confirmOrder', placeholder: 'ConfirmOrderFunction' },
  { task: 'voidPayment', placeholder: 'VoidPaymentFunction' },
  { task: 'releaseStock', placeholder: 'ReleaseStockFunction' },
  { task: 'failOrder', placeholder: 'FailOrderFunction' },
] as const;
export type CheckoutTaskName = (typeof CHECKOUT_TASKS)[number]['task'];
/** The one task that asks the provider and can resume the saga at once. */
export const AUTHORIZE_TASK: CheckoutTaskName = 'authorizePayment';

/** `reserveStock` -> `checkout-reserve-stock` (the function's `amazon-lite:function` tag). */
export function taskFunctionName(task: string): string {
  return `checkout-${task.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** The `${Name}` placeholders of a definition, each once, in order of appearance. */
export function definitionPlaceholders(definition: string): string[] {
  return [...new Set([...definition.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]))];
}

/** The definition file's text, after checking it is JSON and its placeholders are exactly CHECKOUT_TASKS'. */
export function loadCheckoutDefinition(file: string = CHECKOUT_DEFINITION_FILE): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf-8');
    JSON.parse(text);
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
  const found = definitionPlaceholders(text).sort();
  const expected = CHECKOUT_TASKS.map((t) => t.placeholder).sort();
  if (JSON.stringify(found) !== JSON.stringify(expected)) {
    throw new Error(
      `${file}: placeholders ${found.join(', ')} differ from the task functions lib/checkout.ts substitutes ` +
        `(${expected.join(', ')}); update CHECKOUT_TASKS with the definition`,
    );
  }
  return text;
}

export interface CheckoutSagaProps {
  readonly table: dynamodb.ITable;
  readonly webhookSecret: secretsmanager.ISecret;
  /** The HTTP API's endpoint (https://..., no trailing slash): the sandbox posts webhooks there. */
  readonly apiEndpoint: string;
  readonly alarmTopic: sns.ITopic;
  /** The code asset of a crate's binary, for a construct in `scope`'s stack. */
  readonly code: (scope: Construct, service: string, binary: string) => lambda.Code;
  readonly architecture: lambda.Architecture;
  readonly memorySize: number;
  readonly logRetention: logs.RetentionDays;
  /** Name of the state machine (unique in the account and region). */
  readonly stateMachineName: string;
  /** Most resources the nested stack may have. Default RESOURCE_BUDGET. */
  readonly resourceBudget?: number;
  /** Task function timeout. Default 30 s. */
  readonly taskTimeout?: Duration;
  /**
   * authorizePayment's timeout. Default 60 s: the sandbox delivers its
   * webhook before the invocation returns, up to 5 attempts of 10 s with
   * backoff.
   */
  readonly authorizeTimeout?: Duration;
}

export interface CheckoutTaskFunction {
  readonly task: CheckoutTaskName;
  readonly placeholder: string;
  readonly name: string;
  readonly function: lambda.Function;
  readonly errorAlarm: cloudwatch.Alarm;
}

export class CheckoutSaga extends NestedStack {
  readonly tasks: CheckoutTaskFunction[] = [];
  readonly stateMachine: sfn.StateMachine;
  /** The state machine's ARN, built from its name (no reference, see above). */
  readonly stateMachineArn: string;
  readonly logGroup: logs.LogGroup;
  /** Executions failed, timed out, aborted, throttled. */
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly sweeper: ReservationSweeper;

  constructor(scope: Construct, id: string, props: CheckoutSagaProps) {
    super(scope, id, { description: 'Amazon Lite: the checkout saga (state machine and task functions) and the reservation sweeper' });
    const definition = loadCheckoutDefinition();
    this.stateMachineArn = stateMachineArnOf(this, props.stateMachineName);
    const action = new cw_actions.SnsAction(props.alarmTopic);
    const code = props.code(this, CHECKOUT_SERVICE, CHECKOUT_TASK_BINARY);

    for (const { task, placeholder } of CHECKOUT_TASKS) {
      const name = taskFunctionName(task);
      const owner = new Construct(this, placeholder.replace(/Function$/, 'Task'));
      const logGroup = new logs.LogGroup(owner, 'Logs', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
      const authorize = task === AUTHORIZE_TASK;
      const environment: Record<string, string> = {
        TABLE_NAME: props.table.tableName,
        RUST_LOG: 'info',
        [CHECKOUT_TASK_ENV]: task,
        // Every task builds the payments service at start-up, which needs
        // the variable (payments::lambda::payments); only authorizePayment
        // may read the value.
        [PAYMENT_WEBHOOK_SECRET_ENV]: props.webhookSecret.secretArn,
      };
      if (authorize) {
        environment[PAYMENT_WEBHOOK_URL_ENV] = `${props.apiEndpoint}${PAYMENT_WEBHOOK_PATH}`;
        environment[CHECKOUT_STATE_MACHINE_ENV] = this.stateMachineArn;
      }
      const f = new lambda.Function(owner, 'Function', {
        description: `Amazon Lite checkout task ${task}`,
        runtime: lambda.Runtime.PROVIDED_AL2023,
        architecture: props.architecture,
        handler: 'bootstrap',
        code,
        memorySize: props.memorySize,
        timeout: authorize ? (props.authorizeTimeout ?? Duration.seconds(60)) : (props.taskTimeout ?? Duration.seconds(30)),
        tracing: lambda.Tracing.ACTIVE,
        logGroup,
        environment,
      });
      Tags.of(f).add(KIND_TAG, 'task');
      Tags.of(f).add('amazon-lite:service', CHECKOUT_SERVICE);
      Tags.of(f).add('amazon-lite:function', name);
      // Reservations, stock, orders, payments and outbox items, by key and
      // in transactions: the table's items only (no task queries an index).
      f.addToRolePolicy(new iam.PolicyStatement({ sid: 'TableItemsReadWrite', actions: [...ITEM_ACTIONS], resources: [props.table.tableArn] }));
      if (authorize) {
        f.addToRolePolicy(webhookSecretRead(props.webhookSecret));
        // A synchronous decline (or an already settled payment) resumes the task at once.
        f.addToRolePolicy(taskResponse(this.stateMachineArn));
      }
      const errorAlarm = new cloudwatch.Alarm(owner, 'Errors', {
        alarmDescription: `checkout task ${task} (${name}) returned errors (Step Functions retries, then compensates)`,
        metric: f.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      errorAlarm.addAlarmAction(action);
      this.tasks.push({ task, placeholder, name, function: f, errorAlarm });
    }

    this.logGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      // The vended-logs prefix keeps the account's CloudWatch Logs resource
      // policy small (Step Functions' advice for state machine logging).
      logGroupName: `/aws/vendedlogs/states/${props.stateMachineName}`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: 'Amazon Lite checkout saga (infra/checkout.asl.json)',
      definitionBody: sfn.DefinitionBody.fromString(definition),
      definitionSubstitutions: Object.fromEntries(this.tasks.map((t) => [t.placeholder, t.function.functionArn])),
      // ERROR only, and without execution data: the input holds the
      // payment token and the items of the order.
      logs: { destination: this.logGroup, level: sfn.LogLevel.ERROR, includeExecutionData: false },
      tracingEnabled: true,
    });
    // Exactly the seven task functions, unqualified (the definition names them so).
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'InvokeCheckoutTasks',
        actions: ['lambda:InvokeFunction'],
        resources: this.tasks.map((t) => t.function.functionArn),
      }),
    );

    const alarm = (alarmId: string, description: string, metric: cloudwatch.IMetric) => {
      const a = new cloudwatch.Alarm(this, alarmId, {
        alarmDescription: description,
        metric,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(action);
      a.addOkAction(action);
      this.alarms.push(a);
      return a;
    };
    const sum = { period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM };
    alarm('ExecutionsFailed', 'checkout executions failed (a technical failure or a compensation that needs an operator)', this.stateMachine.metricFailed(sum));
    alarm('ExecutionsTimedOut', 'checkout executions timed out', this.stateMachine.metricTimedOut(sum));
    alarm('ExecutionsAborted', 'checkout executions were aborted (stopped by hand?)', this.stateMachine.metricAborted(sum));
    alarm('ExecutionThrottled', 'checkout executions were throttled (Step Functions quota)', this.stateMachine.metricThrottled(sum));

    this.sweeper = new ReservationSweeper(this, 'ReservationSweeper', {
      table: props.table,
      code: props.code(this, 'inventory', 'inventory-reservation-sweeper'),
      architecture: props.architecture,
      memorySize: props.memorySize,
      logRetention: props.logRetention,
      alarmTopic: props.alarmTopic,
    });

    enforceResourceBudget(this, props.resourceBudget ?? RESOURCE_BUDGET, 'The checkout saga has a fixed number of resources: did a loop go wrong?');
  }

  /** Every alarm of the stack: executions, each task's errors, the sweeper's errors. */
  allAlarms(): cloudwatch.Alarm[] {
    return [...this.alarms, ...this.tasks.map((t) => t.errorAlarm), this.sweeper.errorAlarm];
  }

  /** Dashboard widgets: executions, task errors and duration, sweeper. */
  widgets(): cloudwatch.IWidget[] {
    const sum = { period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM };
    const sm = this.stateMachine;
    return [
      new cloudwatch.GraphWidget({
        title: 'Checkout executions',
        width: 8,
        left: [
          sm.metricStarted({ ...sum, label: 'started' }),
          sm.metricSucceeded({ ...sum, label: 'succeeded' }),
          sm.metricFailed({ ...sum, label: 'failed' }),
          sm.metricTimedOut({ ...sum, label: 'timed out' }),
          sm.metricAborted({ ...sum, label: 'aborted' }),
          sm.metricThrottled({ ...sum, label: 'throttled' }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Checkout tasks: errors',
        width: 8,
        left: this.tasks.map((t) => t.function.metricErrors({ ...sum, label: t.task })),
        right: [this.sweeper.function.metricErrors({ ...sum, label: 'reservation sweeper' })],
      }),
      new cloudwatch.GraphWidget({
        title: 'Checkout tasks: duration p99 (ms)',
        width: 8,
        left: this.tasks.map((t) => t.function.metricDuration({ period: Duration.minutes(5), statistic: 'p99', label: t.task })),
      }),
    ];
  }
}
