// Prints the CloudFormation resource count of every stack (root and nested)
// for the real infra/*.json, without bundling: `npx tsx scripts/resource-counts.ts`.
// The README's "Resources for today's routes.json" line comes from here.
import { App, NestedStack, Stack } from 'aws-cdk-lib';
import { AmazonLiteStack } from '../lib/amazon-lite-stack';
import { RESOURCE_BUDGET, resourceCount } from '../lib/limits';

const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const root = new AmazonLiteStack(app, 'AmazonLiteStack', {});
const stacks: Stack[] = [root, ...root.node.findAll().filter((c): c is NestedStack => NestedStack.isNestedStack(c))];
for (const stack of stacks) {
  console.log(`${stack.node.path.padEnd(40)} ${String(resourceCount(stack)).padStart(4)} / ${RESOURCE_BUDGET}`);
}
