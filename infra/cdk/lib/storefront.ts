// The shop (web/, Next.js) deployed serverless with OpenNext: the server
// function (`.open-next/server-functions/default`) on Lambda behind a
// function URL, the static assets (`.open-next/assets`) in a private S3
// bucket, and CloudFront in front of both. The shop's server calls the API
// at AMAZON_LITE_API_URL (the HTTP API's stage URL), so browsers talk to
// one origin and the cart and refresh cookies stay first-party.
//
// Caching per path (CloudFront behaviours):
// - `_next/static/*`: hashed file names, so cached a year at the edge and
//   sent to browsers as `public, max-age=31536000, immutable`;
// - `products/*`: pages regenerated every 30 s (ISR); the cache follows the
//   server's `Cache-Control` (`s-maxage=30, stale-while-revalidate=30`), never
//   longer than PAGE_MAX_TTL, keyed on the path, the query string and Next's
//   router headers (the HTML and the RSC payload of one URL differ), never on
//   cookies;
// - `api/*` (the proxy and the session routes) and everything else (cart,
//   checkout, account, orders, sign-in, the listing): not cached, every
//   viewer header but Host (cookies, Authorization) forwarded.
//
// The shopper's address is not passed to the API here yet: the API
// believes `X-Shop-Client-Ip` only next to a shared secret, and this project
// keeps secret values out of function configuration (no dynamic
// references), so both the shop's function and the API's sign-up and login
// functions would have to read it from Secrets Manager by ARN at first use.
// Until then the API counts the shop's server as one address on AWS (the
// per-account limits hold); locally scripts/shop passes the secret to both.
//
// Without bundling (tests, CI: the `aws:cdk:bundling-stacks` context is
// empty) the function code and assets are placeholders, so synth needs no
// `.open-next/` build; a real deploy needs `npm run build:open-next` in web/.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';

/** Where `open-next build` writes, relative to this file. */
export const DEFAULT_OPEN_NEXT_DIR = path.join(__dirname, '..', '..', '..', 'web', '.open-next');
/** The variable the shop's server reads the API's base URL from (web/src/lib/config.ts). */
export const API_URL_ENV = 'AMAZON_LITE_API_URL';
/** Paths served from the assets bucket; everything else goes to the server function. */
export const STATIC_PATHS = ['_next/static/*', 'favicon.ico'];

/** Paths of pages the edge may cache, as the server's `Cache-Control` says. */
export const PAGE_PATHS = ['products/*'];
/** Paths never cached: the API proxy and the session routes. */
export const UNCACHED_PATHS = ['api/*'];
/** Longest a page stays at the edge, whatever the server says (the API's max-age plus its stale-while-revalidate). */
export const PAGE_MAX_TTL = Duration.seconds(60);
/** Next's request headers that select the HTML or an RSC payload of a page (part of the page cache key). */
export const NEXT_ROUTER_HEADERS = ['rsc', 'next-router-prefetch', 'next-router-state-tree', 'next-router-segment-prefetch', 'next-url'];
export interface StorefrontProps {
  /** The API's base URL (the HTTP API stage URL), without a trailing slash needed. */
  readonly apiUrl: string;
  /** The OpenNext build output. Default: web/.open-next. */
  readonly openNextDir?: string;
  /** Memory of the server function. Default 1024 MB. */
  readonly memorySize?: number;
}

export class Storefront extends Construct {
  readonly serverFunction: lambda.Function;
  readonly assets: s3.Bucket;
  readonly distribution: cloudfront.Distribution;

  constructor(scope: Construct, id: string, props: StorefrontProps) {
    super(scope, id);
    const dir = props.openNextDir ?? DEFAULT_OPEN_NEXT_DIR;
    const real = Stack.of(this).bundlingRequired;
    const serverDir = path.join(dir, 'server-functions', 'default');
    const assetsDir = path.join(dir, 'assets');
    if (real && !(fs.existsSync(serverDir) && fs.existsSync(assetsDir))) {
      throw new Error(`${dir} has no OpenNext build: run \`npm ci && npm run build:open-next\` in web/ first`);
    }

    this.assets = new s3.Bucket(this, 'Assets', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });

    const logGroup = new logs.LogGroup(this, 'ServerLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.serverFunction = new lambda.Function(this, 'Server', {
      description: 'Amazon Lite shop: the Next.js server (OpenNext)',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: real
        ? lambda.Code.fromAsset(serverDir)
        : lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 503, body: "placeholder" });'),
      memorySize: props.memorySize ?? 1024,
      timeout: Duration.seconds(15),
      logGroup,
      environment: {
        [API_URL_ENV]: props.apiUrl,
        // Cookies are Secure behind CloudFront (https only).
        SHOP_SECURE_COOKIES: '1',
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    // CloudFront reaches the function over its URL. Not IAM-signed: origin
    // access control for Lambda URLs needs a signed body hash on POST, which
    // browsers do not send; the function only proxies the public API.
    const url = this.serverFunction.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });

    const serverOrigin = new origins.FunctionUrlOrigin(url, { readTimeout: Duration.seconds(15) });
    const assetsOrigin = origins.S3BucketOrigin.withOriginAccessControl(this.assets);
    const server: Omit<cloudfront.BehaviorOptions, 'cachePolicy'> = {
      origin: serverOrigin,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      // Cookies and Authorization reach the server (the function URL needs its own Host).
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      responseHeadersPolicy: cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
      compress: true,
    };
    // Rendered per request (the shopper's pages, the listing) or personal (the API proxy, sessions).
    const uncached: cloudfront.BehaviorOptions = { ...server, cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED };
    const pagePolicy = new cloudfront.CachePolicy(this, 'PagePolicy', {
      comment: 'Amazon Lite shop: regenerated pages, as long as the server says (at most 60 s)',
      // 0 unless the server's Cache-Control says more: an answer without
      // s-maxage/max-age (an error, a dynamic page) is not kept.
      minTtl: Duration.seconds(0),
      defaultTtl: Duration.seconds(0),
      maxTtl: PAGE_MAX_TTL,
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.all(),
      headerBehavior: cloudfront.CacheHeaderBehavior.allowList(...NEXT_ROUTER_HEADERS),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });
    const pages: cloudfront.BehaviorOptions = {
      ...server,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
      cachePolicy: pagePolicy,
    };
    const immutable = new cloudfront.CachePolicy(this, 'ImmutablePolicy', {
      comment: 'Amazon Lite shop: hashed build assets, a year',
      minTtl: Duration.days(365),
      defaultTtl: Duration.days(365),
      maxTtl: Duration.days(365),
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.none(),
      headerBehavior: cloudfront.CacheHeaderBehavior.none(),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });
    const immutableHeaders = new cloudfront.ResponseHeadersPolicy(this, 'ImmutableHeaders', {
      comment: 'Amazon Lite shop: hashed build assets are immutable',
      customHeadersBehavior: {
        customHeaders: [{ header: 'Cache-Control', value: 'public, max-age=31536000, immutable', override: true }],
      },
    });
    const assets = (cachePolicy: cloudfront.ICachePolicy, responseHeadersPolicy?: cloudfront.IResponseHeadersPolicy): cloudfront.BehaviorOptions => ({
      origin: assetsOrigin,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
      cachePolicy,
      responseHeadersPolicy,
      compress: true,
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Amazon Lite shop',
      defaultBehavior: uncached,
      additionalBehaviors: {
        // Hashed file names: never change, cached a year.
        '_next/static/*': assets(immutable, immutableHeaders),
        // Not hashed: the bucket's own short default.
        'favicon.ico': assets(cloudfront.CachePolicy.CACHING_OPTIMIZED),
        ...Object.fromEntries(PAGE_PATHS.map((p) => [p, pages])),
        ...Object.fromEntries(UNCACHED_PATHS.map((p) => [p, uncached])),
      },
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
    });

    new s3deploy.BucketDeployment(this, 'DeployAssets', {
      destinationBucket: this.assets,
      sources: [real ? s3deploy.Source.asset(assetsDir) : s3deploy.Source.data('placeholder.txt', 'placeholder')],
      distribution: this.distribution,
      distributionPaths: ['/*'],
      prune: true,
      memoryLimit: 512,
    });
  }
}

export interface StorefrontStackProps extends StackProps, StorefrontProps {}

/** The shop in its own stack: deployed after the API, whose URL it takes. */
export class StorefrontStack extends Stack {
  readonly storefront: Storefront;

  constructor(scope: Construct, id: string, props: StorefrontStackProps) {
    super(scope, id, props);
    this.storefront = new Storefront(this, 'Shop', props);
    new CfnOutput(this, 'ShopUrl', {
      description: 'The shop (CloudFront)',
      value: `https://${this.storefront.distribution.distributionDomainName}`,
    });
  }
}
