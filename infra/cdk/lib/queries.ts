// Saved CloudWatch Logs Insights queries (console: Logs Insights, "Saved
// queries", folder <stack name>), over the log groups that hold the answer.
// The field names are those of the services' JSON logs (tracing-subscriber,
// events flattened to the top: level, message, status, cause, reason). The
// span fields sit in `span` on HTTP functions (shared/http telemetry:
// correlation_id, aws_request_id, method, path) and in the `spans` list on
// event functions (shared/events-aws telemetry: the message span's consumer,
// message_id, receive_count, correlation_id, event_id, detail_type), at a
// position that depends on the spans the Lambda runtime opens around them:
// so the queries `parse` span fields out of the raw line by name instead of
// naming a path. The API access log is the stage's JSON format
// (amazon-lite-stack.ts: routeKey, status, integrationError, ...).
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { CheckoutSaga } from './checkout';
import { type Consumer, MAX_RECEIVE_COUNT } from './events';
import type { RouteFunction } from './route-function';

/** Logs Insights reads at most 50 log groups per query. */
export const MAX_QUERY_LOG_GROUPS = 50;
/** What the order-story query's filter holds until an operator pastes a correlation id. */
export const CORRELATION_ID_PLACEHOLDER = 'PASTE-CORRELATION-ID';
/** The services whose route functions take part in an order (placing, paying, reading it). */
export const ORDER_SERVICES = ['orders', 'payments'] as const;

/** `parse` of a span field (a JSON string) by name, wherever it sits in the line. */
export function parseField(field: string, as: string): string {
  return `@message /"${field}":"(?<${as}>[^"]*)"/`;
}

/** A regex alternative for "a whole number >= n" (n from 1 to 9). */
function atLeast(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 9) throw new Error(`receive count ${n}: expected 1 to 9`);
  return `[${n}-9]|[1-9][0-9]+`;
}

export interface SavedQueriesProps {
  /** Folder of the saved queries: the environment's stack name (names are unique per account and region). */
  readonly prefix: string;
  readonly accessLogs: logs.ILogGroup;
  readonly routeFunctions: readonly RouteFunction[];
  readonly consumers: readonly Consumer[];
  readonly relay: lambda.IFunction;
  readonly checkout: CheckoutSaga;
}

export class SavedQueries extends Construct {
  readonly orderStory: logs.QueryDefinition;
  readonly route5xx: logs.QueryDefinition;
  readonly deadLetters: logs.QueryDefinition;

  constructor(scope: Construct, id: string, props: SavedQueriesProps) {
    super(scope, id);
    const groupOf = (f: lambda.IFunction, what: string): logs.ILogGroup => {
      const g = (f as lambda.Function).logGroup;
      if (!g) throw new Error(`${what}: no log group`);
      return g;
    };
    const limited = (name: string, groups: logs.ILogGroup[]): logs.ILogGroup[] => {
      if (groups.length > MAX_QUERY_LOG_GROUPS) {
        throw new Error(`saved query ${name}: ${groups.length} log groups, Logs Insights reads at most ${MAX_QUERY_LOG_GROUPS}`);
      }
      return groups;
    };

    // Every line of one order's way: the POST /v1/orders request, the
    // order.created.v1 delivery to checkout-start, the saga's tasks, the
    // payment webhook, the events it caused and their consumers. The
    // correlation id is in the request span, the message span or a field.
    const storyGroups = [
      ...props.routeFunctions.filter((rf) => (ORDER_SERVICES as readonly string[]).includes(rf.route.service)).map((rf) => groupOf(rf.function, rf.route.function)),
      ...props.consumers.map((c) => groupOf(c.function, c.spec.name)),
      groupOf(props.relay, 'relay'),
      ...props.checkout.tasks.map((t) => groupOf(t.function, t.name)),
      groupOf(props.checkout.sweeper.function, 'reservation sweeper'),
    ];
    this.orderStory = new logs.QueryDefinition(this, 'OrderStory', {
      queryDefinitionName: `${props.prefix}/One order's story by correlation id`,
      queryString: new logs.QueryString({
        fields: ['@timestamp', '@log', 'level', 'message', 'status', 'cause', 'reason'],
        parseStatements: [parseField('correlation_id', 'correlationId'), parseField('path', 'path'), parseField('detail_type', 'detailType')],
        filterStatements: [`@message like "${CORRELATION_ID_PLACEHOLDER}"`],
        sort: '@timestamp asc',
        limit: 1000,
      }),
      logGroups: limited('order story', storyGroups),
    });

    // API Gateway's view: every 5xx, handled (problem+json) or not (integration errors).
    this.route5xx = new logs.QueryDefinition(this, 'Route5xx', {
      queryDefinitionName: `${props.prefix}/5xx by route`,
      queryString: new logs.QueryString({
        filterStatements: ['status like /^5/'],
        statsStatements: ['count(*) as answers, latest(integrationError) as lastIntegrationError, latest(error) as lastError by routeKey, status'],
        sort: 'answers desc',
      }),
      logGroups: [props.accessLogs],
    });

    // A message reaches its consumer's DLQ when its last receive
    // (MAX_RECEIVE_COUNT) fails: the failure lines of such receives.
    this.deadLetters = new logs.QueryDefinition(this, 'DeadLetters', {
      queryDefinitionName: `${props.prefix}/Dead letters by consumer`,
      queryString: new logs.QueryString({
        fields: ['@timestamp', 'level', 'message', 'reason'],
        parseStatements: [
          parseField('consumer', 'consumer'),
          parseField('detail_type', 'detailType'),
          parseField('correlation_id', 'correlationId'),
        ],
        filterStatements: [
          'level in ["WARN", "ERROR"]',
          `@message like /"receive_count":"(${atLeast(MAX_RECEIVE_COUNT)})"/`,
        ],
        statsStatements: ['count(*) as deadLettered, latest(message) as lastFailure, latest(reason) as lastReason by consumer, detailType'],
        sort: 'deadLettered desc',
      }),
      logGroups: limited('dead letters', props.consumers.map((c) => groupOf(c.function, c.spec.name))),
    });
  }
}
