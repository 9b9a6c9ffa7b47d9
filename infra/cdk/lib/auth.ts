// Extension point for authentication.
//
// Today every route is wired the same way: API Gateway does not authorize
// (no authorizer, so no extra hop or cost); the shared Rust tower layer
// verifies the bearer token and the role (`bearer` / `admin`) in the function,
// so the local one-process API and the deployed API behave the same.
//
// The accounts issue adds the token signing key here, and nothing else in the
// stack has to change:
//   1. create the signing-key secret in the constructor (like the cursor key
//      in amazon-lite-stack.ts, `generateSecretString`);
//   2. in `forRoute`, return its ARN in `environment` (for instance
//      AMAZON_LITE_SIGNING_KEY_SECRET_ARN) and grant GetSecretValue in
//      `grant` - to the issuing `auth` routes for the private key, and to the
//      `bearer`/`admin` routes only if they need more than the public JWKS;
//   3. optionally return an `HttpJwtAuthorizer` (issuer + audience, JWKS at
//      /.well-known/jwks.json) as `authorizer` for `bearer`/`admin` routes to
//      reject bad tokens at the edge; the Rust layer keeps checking roles and
//      revocation either way.
import type { IHttpRouteAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { RouteSpec } from './config';

export interface RouteAuthWiring {
  /** API Gateway authorizer for the route; undefined = none (the function authenticates). */
  readonly authorizer?: IHttpRouteAuthorizer;
  /** Extra environment for the route's function. */
  readonly environment: Readonly<Record<string, string>>;
  /** Grants the route's function what authentication needs (e.g. reading a key). */
  grant(grantee: iam.IGrantable): void;
}

export class Auth extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
  }

  /** How the route with this `auth` level is wired. */
  forRoute(route: RouteSpec): RouteAuthWiring {
    switch (route.auth) {
      case 'public':
      case 'bearer':
      case 'admin':
        return { environment: {}, grant: () => undefined };
    }
  }
}
