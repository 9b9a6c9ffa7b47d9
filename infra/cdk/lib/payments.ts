// Payments and checkout wiring outside the saga's own stack (checkout.ts):
// the webhook signing secret, and what the payments route functions and
// the payments/checkout event consumers get (variables + least-privilege
// grants). Rust side: functions/payments (src/lambda.rs reads
// PAYMENT_WEBHOOK_SECRET_ARN and PAYMENT_WEBHOOK_URL), shared/saga
// (src/aws.rs reads CHECKOUT_STATE_MACHINE_ARN), functions/checkout
// (src/bin/start.rs reads CHECKOUT_PAYMENT_TIMEOUT_SECS).
//
// The webhook secret is the sandbox provider's signing key: the
// authorizePayment task signs the webhooks it posts to the API with it, and
// the payments-webhook route verifies them. Who may read its value
// (GetSecretValue): WEBHOOK_SECRET_ROUTES, the authorizePayment task and
// WEBHOOK_SECRET_CONSUMERS. Every function running a payments binary gets
// the variable, though: `payments::lambda::payments()` / `check_env()`
// refuse to start without it (the value is fetched on first use only, so
// a function that never signs or verifies never needs the grant).
import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { ConsumerSpec, RouteSpec } from './config';
import { type FunctionWiring, NO_WIRING, combine, wiring } from './wiring';

export const PAYMENTS_SERVICE = 'payments';
export const PAYMENT_WEBHOOK_SECRET_ENV = 'PAYMENT_WEBHOOK_SECRET_ARN';
export const PAYMENT_WEBHOOK_URL_ENV = 'PAYMENT_WEBHOOK_URL';
export const CHECKOUT_STATE_MACHINE_ENV = 'CHECKOUT_STATE_MACHINE_ARN';
export const CHECKOUT_PAYMENT_TIMEOUT_ENV = 'CHECKOUT_PAYMENT_TIMEOUT_SECS';
/** Where the sandbox provider posts its webhooks (the payments-webhook route). */
export const PAYMENT_WEBHOOK_PATH = '/v1/payments/webhook';
export const DEFAULT_CHECKOUT_PAYMENT_TIMEOUT_SECONDS = 900;

/** Route functions that verify webhook signatures (read the secret) and resume the saga. */
export const WEBHOOK_FUNCTIONS = ['payments-webhook'] as const;
/** Consumers that run the payments binaries (they need the variable, see above) and may read the secret. */
export const WEBHOOK_SECRET_CONSUMERS = ['payments-order-cancelled', 'payments-order-shipped'] as const;
/** The consumer that starts checkout executions (order.created.v1). */
export const CHECKOUT_START_CONSUMER = 'checkout-start';

/** GetSecretValue only (secret.grantRead would add DescribeSecret). */
export function webhookSecretRead(secret: secretsmanager.ISecret): iam.PolicyStatement {
  return new iam.PolicyStatement({ sid: 'PaymentWebhookSecretRead', actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] });
}

/**
 * Resuming a waiting task (`.waitForTaskToken`) with its token.
 *
 * The Service Authorization Reference lists no resource type for
 * SendTaskSuccess/SendTaskFailure (which would mean `*`), but Step Functions
 * authorizes a token call against the state machine whose execution issued
 * the token (the AccessDenied message names `...:stateMachine:<name>`), and
 * aws-cdk-lib's own `grantTaskResponse` scopes these actions to the state
 * machine's ARN (tested by its maintainers for Lambda callbacks,
 * aws/aws-cdk#8486). So the grant names the checkout state machine only: a
 * leaked role cannot complete another workflow's tasks. If a deploy ever
 * shows `not authorized to perform: states:SendTaskSuccess on resource: *`,
 * widen this one statement to `*` (the token itself remains the capability).
 */
export function taskResponse(stateMachineArn: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'CheckoutTaskResponse',
    actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
    resources: [stateMachineArn],
  });
}

/** `arn:<partition>:states:<region>:<account>:stateMachine:<name>`, without a reference to the resource. */
export function stateMachineArnOf(scope: Construct, name: string): string {
  return Stack.of(scope).formatArn({ service: 'states', resource: 'stateMachine', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}

/** Every execution of state machine `name`: `arn:...:execution:<name>:*`. */
export function executionArnsOf(scope: Construct, name: string): string {
  return Stack.of(scope).formatArn({ service: 'states', resource: 'execution', resourceName: `${name}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}

/** The generated webhook signing key (64 alphanumeric characters; the Rust side wants at least 32). */
export function createPaymentWebhookSecret(scope: Construct, id = 'PaymentWebhookSecret'): secretsmanager.Secret {
  return new secretsmanager.Secret(scope, id, {
    description: 'Amazon Lite: the sandbox payment provider\'s webhook signing key (HMAC)',
    // Never change: CloudFormation would replace the secret, i.e. the key
    // (webhooks signed in flight would stop verifying).
    generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
  });
}

export interface CommerceWiringProps {
  readonly webhookSecret: secretsmanager.ISecret;
  /** Name of the checkout state machine (its ARN is built from it, see checkout.ts). */
  readonly stateMachineName: string;
  readonly paymentTimeoutSeconds: number;
}

/** The variables and grants of the payments route functions and the commerce consumers. */
export class CommerceWiring {
  readonly stateMachineArn: string;
  readonly executionArns: string;

  constructor(
    scope: Construct,
    private readonly props: CommerceWiringProps,
  ) {
    this.stateMachineArn = stateMachineArnOf(scope, props.stateMachineName);
    this.executionArns = executionArnsOf(scope, props.stateMachineName);
  }

  forRoute(route: RouteSpec): FunctionWiring {
    if (route.service !== PAYMENTS_SERVICE) return NO_WIRING;
    const secretEnv = wiring({ [PAYMENT_WEBHOOK_SECRET_ENV]: this.props.webhookSecret.secretArn });
    if (!(WEBHOOK_FUNCTIONS as readonly string[]).includes(route.function)) return secretEnv;
    return combine(
      secretEnv,
      wiring({ [CHECKOUT_STATE_MACHINE_ENV]: this.stateMachineArn }, [
        webhookSecretRead(this.props.webhookSecret),
        taskResponse(this.stateMachineArn),
      ]),
    );
  }

  forConsumer(spec: ConsumerSpec): FunctionWiring {
    if ((WEBHOOK_SECRET_CONSUMERS as readonly string[]).includes(spec.name)) {
      return wiring({ [PAYMENT_WEBHOOK_SECRET_ENV]: this.props.webhookSecret.secretArn }, [webhookSecretRead(this.props.webhookSecret)]);
    }
    if (spec.name === CHECKOUT_START_CONSUMER) {
      return wiring(
        {
          [CHECKOUT_STATE_MACHINE_ENV]: this.stateMachineArn,
          [CHECKOUT_PAYMENT_TIMEOUT_ENV]: String(this.props.paymentTimeoutSeconds),
        },
        [
          // Executions are named after the order (idempotent start).
          new iam.PolicyStatement({ sid: 'CheckoutStartExecution', actions: ['states:StartExecution'], resources: [this.stateMachineArn] }),
          // A second start of the same order answers ExecutionAlreadyExists;
          // the starter then looks the execution up.
          new iam.PolicyStatement({ sid: 'CheckoutDescribeExecution', actions: ['states:DescribeExecution'], resources: [this.executionArns] }),
        ],
      );
    }
    return NO_WIRING;
  }

  /** Throws when a name this wiring relies on is missing from routes.json / consumers.json. */
  static check(routes: readonly RouteSpec[], consumers: readonly ConsumerSpec[]): void {
    const payments = routes.filter((r) => r.service === PAYMENTS_SERVICE).map((r) => r.function);
    const missingRoutes = payments.length === 0 ? [] : WEBHOOK_FUNCTIONS.filter((f) => !payments.includes(f));
    if (missingRoutes.length > 0) {
      throw new Error(
        `routes.json: the payments service has no function ${missingRoutes.join(', ')}; lib/payments.ts wires the webhook ` +
          'secret and the saga by this name (update WEBHOOK_FUNCTIONS with the Rust route table)',
      );
    }
    const paymentsConsumers = consumers.filter((c) => c.service === PAYMENTS_SERVICE).map((c) => c.name);
    const unwired = paymentsConsumers.filter((n) => !(WEBHOOK_SECRET_CONSUMERS as readonly string[]).includes(n));
    if (unwired.length > 0) {
      throw new Error(
        `consumers.json: payments consumer ${unwired.join(', ')} is not in WEBHOOK_SECRET_CONSUMERS (lib/payments.ts); ` +
          `the payments binaries do not start without ${PAYMENT_WEBHOOK_SECRET_ENV}`,
      );
    }
    const checkout = consumers.filter((c) => c.service === 'checkout' && c.name !== CHECKOUT_START_CONSUMER).map((c) => c.name);
    if (checkout.length > 0) {
      throw new Error(`consumers.json: checkout consumer ${checkout.join(', ')} has no wiring in lib/payments.ts (only ${CHECKOUT_START_CONSUMER})`);
    }
  }
}
