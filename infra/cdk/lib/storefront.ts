// The shop (web/, Next.js) deployed serverless with OpenNext: the server
// function (`.open-next/server-functions/default`) on Lambda behind a
// function URL, the static assets (`.open-next/assets`) in a private S3
// bucket, and CloudFront in front of both. The shop's server calls the API
// at AMAZON_LITE_API_URL (the HTTP API's stage URL), so browsers talk to
// one origin and the cart and refresh cookies stay first-party.
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
    const dynamic: cloudfront.BehaviorOptions = {
      origin: serverOrigin,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      // Pages are rendered per request (stock, prices, the session).
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      responseHeadersPolicy: cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
      compress: true,
    };
    const statics: cloudfront.BehaviorOptions = {
      origin: assetsOrigin,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
      // Hashed file names: cached for a year.
      cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
      compress: true,
    };
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Amazon Lite shop',
      defaultBehavior: dynamic,
      additionalBehaviors: Object.fromEntries(STATIC_PATHS.map((p) => [p, statics])),
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
