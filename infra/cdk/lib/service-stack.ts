// One nested stack per service: the route functions of that service (each
// with its role, log group, version, `live` alias, error alarm, CodeDeploy
// deployment group, API Gateway integration, route and invoke permission:
// about 11 resources per route).
//
// Why: CloudFormation allows 500 resources per stack. With every route in
// the root stack, ~35 routes plus the events backbone reach that limit;
// split by service, the root holds the shared pieces (table, API and stage,
// bus, secrets, alarm topic, CodeDeploy application, dashboard) plus one
// `AWS::CloudFormation::Stack` per service, and a nested stack holds one
// service's routes (lib/limits.ts keeps each under the budget).
//
// What crosses the boundary: the nested stack receives the table, the API
// id, the secrets, the alarm topic and the CodeDeploy application and role as
// CloudFormation parameters (CDK generates them from the references), and
// the root's dashboard reads each function's name and error alarm from the
// nested stack's outputs. The HTTP API routes are created in the nested stack
// against the root's API; the `$default` stage deploys them automatically.
import { NestedStack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { Auth } from './auth';
import type { RouteSpec } from './config';
import { RESOURCE_BUDGET, enforceResourceBudget } from './limits';
import { RouteFunction, type RouteFunctionProps } from './route-function';
import type { FunctionWiring } from './wiring';

/** What every route function of every service shares. */
export type SharedRouteProps = Omit<RouteFunctionProps, 'route' | 'code' | 'auth' | 'wiring'>;

export interface ServiceStackProps {
  readonly service: string;
  /** The service's routes (all with `service` = this service). */
  readonly routes: readonly RouteSpec[];
  /** The code asset of a crate's binary (its prebuilt zip), for a construct in `scope`'s stack. */
  readonly code: (scope: Construct, service: string, binary: string) => lambda.Code;
  readonly auth: Auth;
  /**
   * A route's variables and grants beyond authentication (payments.ts,
   * search.ts); `scope` is this nested stack, for resources that must live
   * beside the route functions (the search collection). Default none.
   */
  readonly wiring?: (route: RouteSpec, scope: Construct) => FunctionWiring;
  readonly shared: SharedRouteProps;
  /** Most resources the nested stack may have. Default RESOURCE_BUDGET. */
  readonly resourceBudget?: number;
}

/** `catalog` -> `Catalog`, `order-items` -> `OrderItems`. */
export function pascalCase(name: string): string {
  return name.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
}

/** Construct id of a service's nested stack (its logical id in the root is derived from it). */
export function serviceStackId(service: string): string {
  return `${pascalCase(service)}Routes`;
}

export class ServiceStack extends NestedStack {
  readonly service: string;
  readonly routeFunctions: RouteFunction[] = [];

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, { description: `Amazon Lite: the ${props.service} service's routes` });
    this.service = props.service;
    const wrong = props.routes.filter((r) => r.service !== props.service);
    if (wrong.length > 0) throw new Error(`${id}: routes of another service: ${wrong.map((r) => r.function).join(', ')}`);

    // Each service ships one artifact, its binary's prebuilt zip
    // (scripts/build-lambdas): one Code object for every function of the
    // service, all in this stack (a Code object binds to one stack only).
    const code = props.code(this, props.service, props.service);
    for (const route of props.routes) {
      this.routeFunctions.push(
        new RouteFunction(this, route.function, {
          ...props.shared,
          route,
          code,
          auth: props.auth.forRoute(route),
          wiring: props.wiring?.(route, this),
        }),
      );
    }

    enforceResourceBudget(
      this,
      props.resourceBudget ?? RESOURCE_BUDGET,
      `The ${props.service} service has ${props.routes.length} routes at about 11 resources each: ` +
        'split it into two services (crates), or give one nested stack per group of its routes.',
    );
  }
}
