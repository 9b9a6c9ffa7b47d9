// The shop's deployment (lib/storefront.ts): the OpenNext server function on
// Lambda with the API's URL, the assets in a private bucket read by
// CloudFront only, and the distribution's behaviours. Synthesized without
// bundling, so no web/.open-next build is needed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { API_URL_ENV, NEXT_ROUTER_HEADERS, PAGE_PATHS, STATIC_PATHS, StorefrontStack, UNCACHED_PATHS } from '../lib/storefront';

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

  const config = () => ofType('AWS::CloudFront::Distribution')[0][1].Properties.DistributionConfig;
  const behavior = (pattern: string) => {
    const b = config().CacheBehaviors.find((x: any) => x.PathPattern === pattern);
    assert.ok(b, `a behaviour for ${pattern}`);
    return b;
  };
  const policy = (ref: any) => {
    const [, id] = Object.entries(resources).find(([logical]) => logical === ref.Ref)!;
    return (id as any).Properties;
  };

  test('every path has its behaviour: assets, pages, the API proxy and sessions', () => {
    const patterns = config().CacheBehaviors.map((b: any) => b.PathPattern).sort();
    assert.deepEqual(patterns, [...STATIC_PATHS, ...PAGE_PATHS, ...UNCACHED_PATHS].sort());
    assert.ok(UNCACHED_PATHS.includes('api/*'), 'the proxy (/api/v1) and the session routes (/api/session)');
    assert.ok(PAGE_PATHS.includes('products/*'));
  });

  test('hashed assets come from the bucket, cached a year and sent as immutable', () => {
    const b = behavior('_next/static/*');
    const assetsOrigin = config().Origins.find((o: any) => o.Id === b.TargetOriginId);
    assert.ok(assetsOrigin.S3OriginConfig, 'static paths read the bucket');
    const cache = policy(b.CachePolicyId).CachePolicyConfig;
    const year = 365 * 24 * 3600;
    assert.deepEqual([cache.MinTTL, cache.DefaultTTL, cache.MaxTTL], [year, year, year]);
    const headers = policy(b.ResponseHeadersPolicyId).ResponseHeadersPolicyConfig.CustomHeadersConfig.Items;
    assert.deepEqual(headers, [{ Header: 'Cache-Control', Value: 'public, max-age=31536000, immutable', Override: true }]);
    assert.equal(behavior('favicon.ico').CachePolicyId, CACHING_OPTIMIZED, 'not hashed: the short default');
  });

  test('product pages are cached as the server says, at most a minute, keyed without cookies', () => {
    const b = behavior('products/*');
    const cache = policy(b.CachePolicyId).CachePolicyConfig;
    // Honour the origin: nothing kept without s-maxage/max-age, never over 60 s.
    assert.deepEqual([cache.MinTTL, cache.DefaultTTL, cache.MaxTTL], [0, 0, 60]);
    const key = cache.ParametersInCacheKeyAndForwardedToOrigin;
    assert.equal(key.CookiesConfig.CookieBehavior, 'none');
    assert.equal(key.QueryStringsConfig.QueryStringBehavior, 'all');
    assert.equal(key.HeadersConfig.HeaderBehavior, 'whitelist');
    assert.deepEqual([...key.HeadersConfig.Headers].sort(), [...NEXT_ROUTER_HEADERS].sort());
    assert.ok(!key.HeadersConfig.Headers.includes('authorization'));
    assert.deepEqual(b.AllowedMethods.sort(), ['GET', 'HEAD', 'OPTIONS']);
    const serverOrigin = config().Origins.find((o: any) => o.Id === b.TargetOriginId);
    assert.ok(serverOrigin.CustomOriginConfig, 'pages come from the function URL');
  });

  test('the API proxy, sessions and the other pages are never cached and get cookies and Authorization', () => {
    for (const b of [config().DefaultCacheBehavior, ...UNCACHED_PATHS.map(behavior)]) {
      assert.equal(b.CachePolicyId, CACHING_DISABLED);
      // All viewer headers (Authorization, cookies) but Host, which the function URL needs as its own.
      assert.equal(b.OriginRequestPolicyId, ALL_VIEWER_EXCEPT_HOST);
      assert.equal(b.ViewerProtocolPolicy, 'redirect-to-https');
      assert.deepEqual(b.AllowedMethods.sort(), ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT']);
      const serverOrigin = config().Origins.find((o: any) => o.Id === b.TargetOriginId);
      assert.ok(serverOrigin.CustomOriginConfig, 'the server function URL');
    }
  });

  test('the assets are deployed to the bucket and the distribution is invalidated', () => {
    template.hasResourceProperties('Custom::CDKBucketDeployment', {
      DistributionPaths: ['/*'],
      Prune: true,
    });
    template.hasOutput('ShopUrl', {});
  });
});
