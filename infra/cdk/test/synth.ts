// Test helper: synthesizes the stack without bundling (no cargo, no Docker,
// no AWS credentials). The first Template.fromStack in a process costs
// seconds, later ones a fraction of a second: each test file builds its
// stack once at module level and shares it between its tests.
//
// The route functions live in one nested stack per service. Besides each
// stack's own template, `resources` merges the root's and every nested
// stack's resources into one map in which a nested stack's parameters are
// replaced by what the root passes them ({"Ref": "TableCD117FA1"} rather than
// {"Ref": "referencetoAmazonLiteStackTable...Ref"}), so a test can follow
// references from a route function to the root's table or secrets as if it
// were one template.
import assert from 'node:assert/strict';
import { App, type NestedStack, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AmazonLiteStack, type AmazonLiteStackProps } from '../lib/amazon-lite-stack';
import type { ServiceStack } from '../lib/service-stack';

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, any>;
  readonly [key: string]: any;
}

export interface NestedTemplate {
  readonly service: string;
  readonly stack: ServiceStack;
  /** The nested stack's own template (its parameters unresolved). */
  readonly template: Template;
  /** Logical id of its AWS::CloudFormation::Stack in the root template. */
  readonly logicalId: string;
  /** Its resources, with parameters replaced by the root's values. */
  readonly resources: Record<string, CfnResource>;
}

/** A nested stack that is not a service's (the checkout saga's). */
export interface OtherNestedTemplate {
  readonly stack: NestedStack;
  readonly template: Template;
  readonly logicalId: string;
  /** Its resources, with parameters replaced by the root's values. */
  readonly resources: Record<string, CfnResource>;
}

export interface Synthesized {
  readonly stack: AmazonLiteStack;
  /** The root stack's template. */
  readonly template: Template;
  readonly rootResources: Record<string, CfnResource>;
  /** One per service, in the order of the routes. */
  readonly nested: NestedTemplate[];
  /** The checkout saga's nested stack (state machine, task functions, reservation sweeper). */
  readonly checkout: OtherNestedTemplate;
  /** Root and nested resources by logical id (nested parameters resolved). */
  readonly resources: Record<string, CfnResource>;
}

export function synth(props: AmazonLiteStackProps = {}): Synthesized {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return templatesOf(new AmazonLiteStack(app, 'AmazonLiteStack', props));
}

/** The templates of a constructed stack and its nested stacks (synthesizes the app once). */
export function templatesOf(stack: AmazonLiteStack): Synthesized {
  const template = Template.fromStack(stack);
  const rootResources: Record<string, CfnResource> = template.toJSON().Resources;
  const resources: Record<string, CfnResource> = { ...rootResources };
  const merge = (s: NestedStack, name: string): OtherNestedTemplate => {
    const logicalId = Stack.of(s.nestedStackResource!).resolve(s.nestedStackResource!.logicalId) as string;
    const passed: Record<string, unknown> = rootResources[logicalId].Properties!.Parameters ?? {};
    const t = Template.fromStack(s);
    const own: Record<string, CfnResource> = substituteParameters(t.toJSON().Resources, passed);
    for (const [id, r] of Object.entries(own)) {
      if (r.Type === 'AWS::CDK::Metadata') continue;
      assert.ok(!(id in resources), `logical id ${id} of ${name} is taken already`);
      resources[id] = r;
    }
    return { stack: s, template: t, logicalId, resources: own };
  };
  const nested = stack.services.map((s): NestedTemplate => ({ service: s.service, ...merge(s, s.service), stack: s }));
  const checkout = merge(stack.checkout, 'checkout saga');
  return { stack, template, rootResources, nested, checkout, resources };
}

/** `value` with every {"Ref": parameter} replaced by what the parent passes. */
function substituteParameters<T>(value: T, passed: Record<string, unknown>): T {
  if (Array.isArray(value)) return value.map((v) => substituteParameters(v, passed)) as T;
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === 'Ref' && typeof v.Ref === 'string' && v.Ref in passed) return passed[v.Ref] as T;
    return Object.fromEntries(keys.map((k) => [k, substituteParameters(v[k], passed)])) as T;
  }
  return value;
}

/** Every template of a synthesis, the root first: [name, resources]. */
export function stackTemplates(s: Synthesized): [string, Record<string, CfnResource>][] {
  return [
    ['root', s.rootResources],
    ...s.nested.map((n): [string, Record<string, CfnResource>] => [n.service, n.template.toJSON().Resources]),
    ['checkout saga', s.checkout.template.toJSON().Resources],
  ];
}

/** [logicalId, resource] pairs of one type. */
export function ofType(resources: Record<string, CfnResource>, type: string): [string, CfnResource][] {
  return Object.entries(resources).filter(([, r]) => r.Type === type);
}

/** Lambda functions whose `amazon-lite:kind` tag is `kind` (route, relay or consumer). */
export function functionsOfKind(resources: Record<string, CfnResource>, kind: string): [string, CfnResource][] {
  return ofType(resources, 'AWS::Lambda::Function').filter(([, f]) =>
    (f.Properties!.Tags ?? []).some((t: { Key: string; Value: string }) => t.Key === 'amazon-lite:kind' && t.Value === kind),
  );
}

/** The logical id in `{Ref: id}` or `{Fn::GetAtt: [id, attr]}`. */
export function refOf(value: unknown): string | undefined {
  if (value && typeof value === 'object') {
    const v = value as Record<string, any>;
    if (typeof v.Ref === 'string') return v.Ref;
    if (Array.isArray(v['Fn::GetAtt'])) return v['Fn::GetAtt'][0];
  }
  return undefined;
}

/** Statement actions as a flat list (CloudFormation allows a string or a list). */
export function actionsOf(statement: { Action: string | string[] }): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** The value of a function's tag. */
export function tagOf(fn: CfnResource, key: string): string | undefined {
  return (fn.Properties!.Tags ?? []).find((t: { Key: string }) => t.Key === key)?.Value;
}

/** Every statement of the role of function `functionId`: inline policies and attached AWS::IAM::Policy. */
export function roleStatements(resources: Record<string, CfnResource>, functionId: string): any[] {
  const roleId = refOf(resources[functionId].Properties!.Role)!;
  const role = resources[roleId];
  const inline = (role.Properties!.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement);
  const attached = ofType(resources, 'AWS::IAM::Policy')
    .filter(([, p]) => p.Properties!.Roles.some((r: unknown) => refOf(r) === roleId))
    .flatMap(([, p]) => p.Properties!.PolicyDocument.Statement);
  return [...inline, ...attached];
}

/**
 * Every `bearer`/`admin` route's function may GetItem on the table (session
 * check on SESSION#, key lookup on SIGNKEY#), whatever its `table` level.
 */
export function assertAuthenticatedRoutesReadTable(
  resources: Record<string, CfnResource>,
  routes: readonly { function: string; auth: string; table: string }[],
): void {
  const tableId = ofType(resources, 'AWS::DynamoDB::Table')[0][0];
  for (const route of routes.filter((r) => r.auth !== 'public')) {
    const found = ofType(resources, 'AWS::Lambda::Function').find(([, f]) => tagOf(f, 'amazon-lite:function') === route.function);
    assert.ok(found, `function ${route.function}`);
    const getItem = roleStatements(resources, found[0]).filter(
      (s) => s.Effect === 'Allow' && actionsOf(s).includes('dynamodb:GetItem') && refOf(s.Resource) === tableId,
    );
    assert.ok(getItem.length > 0, `${route.function} (auth ${route.auth}, table ${route.table}) may GetItem on the table`);
  }
}
