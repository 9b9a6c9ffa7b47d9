// The shop's deployment (lib/storefront.ts): the OpenNext server function on
// Lambda with the API's URL, the assets in a private bucket read by
// CloudFront only, and the distribution's behaviours. Synthesized without
// bundling, so no web/.open-next build is needed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { API_URL_ENV, STATIC_PATHS, StorefrontStack } from '../lib/storefront';

const API_URL = 'https://abc123.execute-api.eu-west-1.amazonaws.com/';
// Managed CloudFront policies (ids fixed by AWS).
const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
const CACHING_OPTIMIZED = '658327ea-f89d-4fab-a63d-7e88639e58f6';
const ALL_VIEWER_EXCEPT_HOST = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';

const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new StorefrontStack(app, 'Shop', { apiUrl: API_URL, openNextDir: '/nonexistent/.open-next' });
const template = Template.fromStack(stack);
const resources: Record<string, any> = template.toJSON().Resources;
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

describe('storefront', () => {
  test('synthesizes without an OpenNext build when bundling is off', () => {
    assert.equal(ofType('AWS::CloudFront::Distribution').length, 1);
  });

  test('with bundling on, a missing OpenNext build is a clear error', () => {
    const bundling = new App();
    assert.throws(
      () => new StorefrontStack(bundling, 'Shop', { apiUrl: API_URL, openNextDir: '/nonexistent/.open-next' }),
      /has no OpenNext build: run `npm ci && npm run build:open-next` in web\//,
    );
  });

  test('the server function runs the OpenNext handler and calls the API', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Environment: { Variables: Match.objectLike({ [API_URL_ENV]: API_URL, SHOP_SECURE_COOKIES: '1' }) },
    });
    template.resourceCountIs('AWS::Lambda::Url', 1);
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
  });

  test('the assets bucket is private and only CloudFront reads it', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    const [[distId]] = ofType('AWS::CloudFront::Distribution');
    const statements = ofType('AWS::S3::BucketPolicy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    const read = statements.find(
      (s: any) => s.Effect === 'Allow' && s.Principal?.Service === 'cloudfront.amazonaws.com',
    );
    assert.ok(read, 'a statement for the CloudFront service principal');
    assert.ok([read.Action].flat().includes('s3:GetObject'));
    assert.match(JSON.stringify(read.Condition), new RegExp(distId));
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
  });

  test('pages and /api go to the server uncached; hashed assets come from the bucket, cached', () => {
    const [[, dist]] = ofType('AWS::CloudFront::Distribution');
    const config = dist.Properties.DistributionConfig;
    assert.equal(config.DefaultCacheBehavior.CachePolicyId, CACHING_DISABLED);
    assert.equal(config.DefaultCacheBehavior.OriginRequestPolicyId, ALL_VIEWER_EXCEPT_HOST);
    assert.equal(config.DefaultCacheBehavior.ViewerProtocolPolicy, 'redirect-to-https');
    assert.deepEqual(config.DefaultCacheBehavior.AllowedMethods.sort(), [
      'DELETE',
      'GET',
      'HEAD',
      'OPTIONS',
      'PATCH',
      'POST',
      'PUT',
    ]);
    const behaviors: any[] = config.CacheBehaviors;
    assert.deepEqual(behaviors.map((b) => b.PathPattern).sort(), [...STATIC_PATHS].sort());
    for (const b of behaviors) assert.equal(b.CachePolicyId, CACHING_OPTIMIZED);
    const serverOrigin = config.Origins.find((o: any) => o.Id === config.DefaultCacheBehavior.TargetOriginId);
    assert.ok(serverOrigin.CustomOriginConfig, 'the default origin is the function URL');
    const assetsOrigin = config.Origins.find((o: any) => o.Id === behaviors[0].TargetOriginId);
    assert.ok(assetsOrigin.S3OriginConfig, 'static paths read the bucket');
  });

  test('the assets are deployed to the bucket and the distribution is invalidated', () => {
    template.hasResourceProperties('Custom::CDKBucketDeployment', {
      DistributionPaths: ['/*'],
      Prune: true,
    });
    template.hasOutput('ShopUrl', {});
  });
});
