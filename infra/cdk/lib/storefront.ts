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
// The shopper's address (for the API's per-address limits): a CloudFront
// Function writes the viewer's IP into `x-shop-viewer-ip` on every request
// to the server (overwriting whatever the viewer sent), and CloudFront adds
// the shop proxy secret as an origin header, so the server believes that
// address only from CloudFront. The server passes it to the API as
// `X-Shop-Client-Ip` with the same secret, which the API's functions that
// read client addresses (sign-up, login) also get (shared/http client_ip.rs).
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
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
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
/** The header the viewer-request function fills with the viewer's IP (web/src/lib/shopper-ip.ts reads it). */
export const VIEWER_IP_HEADER = 'x-shop-viewer-ip';
/** The shared secret of the shop's server and the API (shared/http/src/client_ip.rs reads it). */
export const SHOP_PROXY_SECRET_ENV = 'AMAZON_LITE_SHOP_PROXY_SECRET';
/** The header that carries that secret (CloudFront → shop, shop → API). */
export const SHOP_PROXY_SECRET_HEADER = 'x-shop-proxy-secret';
/** The API's route functions that key limits on the client address (auth's `ClientIp` extractor users). */
export const CLIENT_IP_FUNCTIONS = ['auth-signup', 'auth-login'] as const;

/**
 * The secret the shop's server proves itself to the API with, generated at
 * deploy. It lives in the API's stack (the shop's stack takes the API's URL,
 * so the dependency already points that way) and reaches the functions as
 * an environment value (a CloudFormation dynamic reference): the Rust side
 * reads it synchronously in a request extractor, and the Node side would
 * otherwise need an SDK client at start-up. It guards only which address
 * the sign-up and login limits count; whoever can read a function's
 * configuration in the account can do far more than spoof that, so the
 * trade is deliberate (unlike the token signing key, read by ARN).
 */
export class ShopProxySecret extends Construct {
  readonly secret: secretsmanager.Secret;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description: 'Amazon Lite: shared secret of the shop server and the API (trusted X-Shop-Client-Ip)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
    });
  }

  /** The secret's value as a deploy-time reference. */
  value(): string {
    return this.secret.secretValue.unsafeUnwrap();
  }

  /** Environment of an API route function: the secret for those that read client addresses. */
  forRoute(route: { service: string; function: string }): { environment: Record<string, string>; grant: () => void } {
    const reads = route.service === 'auth' && (CLIENT_IP_FUNCTIONS as readonly string[]).includes(route.function);
    return { environment: reads ? { [SHOP_PROXY_SECRET_ENV]: this.value() } : {}, grant: () => {} };
  }
}

export interface StorefrontProps {
  /** The API's base URL (the HTTP API stage URL), without a trailing slash needed. */
  readonly apiUrl: string;
  /** The OpenNext build output. Default: web/.open-next. */
  readonly openNextDir?: string;
  /** Memory of the server function. Default 1024 MB. */
  readonly memorySize?: number;
  /**
   * The shop proxy secret shared with the API (ShopProxySecret in the API's
   * stack). Without it the shop sends no shopper address and the API counts
   * the shop's server as one caller.
   */
  readonly proxySecret?: secretsmanager.ISecret;
}

export class Storefront extends Construct {
  readonly serverFunction: lambda.Function;
  readonly assets: s3.Bucket;
  readonly distribution: cloudfront.Distribution;

  constructor(scope: Construct, id: string, props: StorefrontProps) {
    super(scope, id);
    const dir = props.openNextDir ?? DEFAULT_OPEN_NEXT_DIR;
    const proxySecret = props.proxySecret?.secretValue.unsafeUnwrap();
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
        ...(proxySecret ? { [SHOP_PROXY_SECRET_ENV]: proxySecret, SHOP_CLIENT_IP_HEADER: VIEWER_IP_HEADER } : {}),
      },
    });
    // CloudFront reaches the function over its URL. Not IAM-signed: origin
    // access control for Lambda URLs needs a signed body hash on POST, which
    // browsers do not send; the function only proxies the public API.
    const url = this.serverFunction.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });

    const serverOrigin = new origins.FunctionUrlOrigin(url, {
      readTimeout: Duration.seconds(15),
      // Proves to the server that a request came through CloudFront (so its
      // x-shop-viewer-ip is CloudFront's, not the caller's).
      customHeaders: proxySecret ? { [SHOP_PROXY_SECRET_HEADER]: proxySecret } : undefined,
    });
    const assetsOrigin = origins.S3BucketOrigin.withOriginAccessControl(this.assets);
    // The viewer's address, written by CloudFront (a viewer's own header of
    // that name is overwritten).
    const viewerIp = new cloudfront.Function(this, 'ViewerIp', {
      comment: 'Amazon Lite shop: the viewer address for the server',
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromInline(
        `function handler(event) { event.request.headers['${VIEWER_IP_HEADER}'] = { value: event.viewer.ip }; return event.request; }`,
      ),
    });
    const functionAssociations = [{ function: viewerIp, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }];
    const server: Omit<cloudfront.BehaviorOptions, 'cachePolicy'> = {
      origin: serverOrigin,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      // Cookies and Authorization reach the server (the function URL needs its own Host).
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      responseHeadersPolicy: cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
      functionAssociations,
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
