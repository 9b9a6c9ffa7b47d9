// Test helper: synthesizes the stack without bundling (no cargo, no Docker,
// no AWS credentials). The first Template.fromStack in a process costs
// seconds, later ones a fraction of a second: each test file builds its
// stack once at module level and shares it between its tests.
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AmazonLiteStack, type AmazonLiteStackProps } from '../lib/amazon-lite-stack';

export interface Synthesized {
  readonly stack: AmazonLiteStack;
  readonly template: Template;
  /** Resources of the template by logical id. */
  readonly resources: Record<string, CfnResource>;
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, any>;
  readonly [key: string]: any;
}

export function synth(props: AmazonLiteStackProps = {}): Synthesized {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new AmazonLiteStack(app, 'AmazonLiteStack', props);
  const template = Template.fromStack(stack);
  return { stack, template, resources: template.toJSON().Resources };
}

/** [logicalId, resource] pairs of one type. */
export function ofType(resources: Record<string, CfnResource>, type: string): [string, CfnResource][] {
  return Object.entries(resources).filter(([, r]) => r.Type === type);
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
