// CloudFormation allows 500 resources per stack (root and nested alike). The
// app keeps every stack under RESOURCE_BUDGET, leaving room for what CDK adds
// on its own and for a few more routes before anyone notices: a synth that
// would produce a stack over the budget fails with the stack's name and count.
import { CfnResource, Stack } from 'aws-cdk-lib';

export const CLOUDFORMATION_RESOURCE_LIMIT = 500;
export const RESOURCE_BUDGET = 450;

/** The CloudFormation resources `stack` itself defines (not those of its nested stacks). */
export function resourceCount(stack: Stack): number {
  return stack.node.findAll().filter((c) => CfnResource.isCfnResource(c) && Stack.of(c) === stack).length;
}

/** Fails the synth when `stack` has more than `budget` resources; `advice` says what to do then. */
export function enforceResourceBudget(stack: Stack, budget: number, advice: string): void {
  stack.node.addValidation({
    validate: () => {
      const count = resourceCount(stack);
      return count > budget
        ? [
            `${stack.node.path}: ${count} CloudFormation resources, over the budget of ${budget} ` +
              `(CloudFormation's limit is ${CLOUDFORMATION_RESOURCE_LIMIT} per stack). ${advice}`,
          ]
        : [];
    },
  });
}
