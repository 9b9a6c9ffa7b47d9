// Authentication wiring: the token signing key and Google sign-in.
//
// API Gateway does not authorize (no authorizer, so no extra hop or cost);
// the shared Rust tower layer verifies the bearer token and the role
// (`bearer` / `admin`) in the function, so the local one-process API and the
// deployed API behave the same. What that needs from the stack:
//
// - Signing key: a Secrets Manager secret generated here (64 alphanumeric
//   characters; functions/auth hashes any secret of 32+ characters into the
//   Ed25519 seed). Only the functions that SIGN tokens (SIGNING_FUNCTIONS)
//   get `AMAZON_LITE_SIGNING_SECRET_ARN` and `GetSecretValue` on it. They
//   publish the public half in the table (`SIGNKEY#<kid>`), from where every
//   verifier learns it, so no other function ever reads the secret.
//   Never change `generateSecretString` below: CloudFormation would replace
//   the secret, i.e. the key (every access token in flight stops verifying).
// - Rotation (optional): `previousSigningSecretArn` (the complete ARN of a
//   secret holding the previous key) adds
//   `AMAZON_LITE_PREVIOUS_SIGNING_SECRET_ARN` and its read grant to the
//   signing functions; they keep publishing the previous public key, so
//   tokens it signed keep verifying until they expire (README "Rotating the
//   signing key").
// - Verifying (every `bearer`/`admin` route): the session check (GetItem on
//   `SESSION#`) and the key lookup (GetItem on `SIGNKEY#`) read the table;
//   table-access.ts `authStatements` grants that to routes whose own `table`
//   level is `none`.
// - Google sign-in (optional): `GOOGLE_CLIENT_ID`, `GOOGLE_REDIRECT_URI`,
//   `GOOGLE_ISSUER` on GOOGLE_FUNCTIONS, only when the client secret's ARN is
//   configured (otherwise no Google variable at all, and the service answers
//   503 on the Google routes), plus `GOOGLE_CLIENT_SECRET_ARN`: the service
//   reads the client secret by that ARN (see `forRoute` below).
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { IHttpRouteAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2';
import { Construct } from 'constructs';
import type { RouteSpec } from './config';

/** The service whose routes issue tokens. */
export const AUTH_SERVICE = 'auth';
/** Route functions that sign tokens: they read the signing key. */
export const SIGNING_FUNCTIONS = ['auth-signup', 'auth-login', 'auth-refresh', 'auth-google-callback'] as const;
/** Route functions of Google sign-in: they get the GOOGLE_* configuration. */
export const GOOGLE_FUNCTIONS = ['auth-google-start', 'auth-google-callback'] as const;
/** The one Google function that uses the client secret (the code exchange). */
export const GOOGLE_SECRET_FUNCTIONS = ['auth-google-callback'] as const;

export const SIGNING_SECRET_ENV = 'AMAZON_LITE_SIGNING_SECRET_ARN';
export const PREVIOUS_SIGNING_SECRET_ENV = 'AMAZON_LITE_PREVIOUS_SIGNING_SECRET_ARN';
/**
 * The ARN of the Google client secret. functions/auth (google.rs
 * `GoogleConfig::from_env`) reads the value from Secrets Manager by this ARN
 * on first use, so the secret never sits in the function's configuration.
 */
export const GOOGLE_CLIENT_SECRET_ARN_ENV = 'GOOGLE_CLIENT_SECRET_ARN';
export const DEFAULT_GOOGLE_ISSUER = 'https://accounts.google.com';

export interface GoogleSignInProps {
  readonly clientId: string;
  /** The callback URL registered with Google, e.g. https://api.example.com/v1/auth/google/callback. */
  readonly redirectUri: string;
  /** Default https://accounts.google.com. */
  readonly issuer?: string;
  /** Complete ARN of the Secrets Manager secret whose string is the OAuth client secret. */
  readonly clientSecretArn: string;
}

export interface AuthProps {
  /** Complete ARN of the secret holding the previous signing key, during a rotation. */
  readonly previousSigningSecretArn?: string;
  /** Google sign-in; undefined = off (the Google routes answer 503). */
  readonly google?: GoogleSignInProps;
}

export interface RouteAuthWiring {
  /** API Gateway authorizer for the route; undefined = none (the function authenticates). */
  readonly authorizer?: IHttpRouteAuthorizer;
  /** Extra environment for the route's function. */
  readonly environment: Readonly<Record<string, string>>;
  /** Grants the route's function what authentication needs (reading a key). */
  grant(grantee: iam.IGrantable): void;
}

// arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-<6 random characters>
const COMPLETE_SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;

function completeSecretArn(what: string, arn: string): string {
  if (!COMPLETE_SECRET_ARN.test(arn)) {
    throw new Error(
      `${what}: ${JSON.stringify(arn)} is not a complete Secrets Manager secret ARN ` +
        '(arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>, as `aws secretsmanager describe-secret --query ARN` prints it)',
    );
  }
  return arn;
}

/** GetSecretValue only (secret.grantRead would add DescribeSecret). */
function readSecret(sid: string, arn: string): iam.PolicyStatement {
  return new iam.PolicyStatement({ sid, actions: ['secretsmanager:GetSecretValue'], resources: [arn] });
}

export class Auth extends Construct {
  /** The signing key (generated; the auth service derives the Ed25519 seed from it). */
  readonly signingSecret: secretsmanager.Secret;
  readonly previousSigningSecretArn?: string;
  readonly google?: GoogleSignInProps;

  constructor(scope: Construct, id: string, props: AuthProps = {}) {
    super(scope, id);
    this.signingSecret = new secretsmanager.Secret(this, 'SigningKey', {
      description: 'Amazon Lite: access token signing key (the auth service derives its Ed25519 key from it)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
    });
    if (props.previousSigningSecretArn !== undefined) {
      this.previousSigningSecretArn = completeSecretArn('previousSigningSecretArn', props.previousSigningSecretArn);
    }
    if (props.google) {
      const g = props.google;
      for (const [field, value] of Object.entries({ clientId: g.clientId, redirectUri: g.redirectUri })) {
        if (!value || value.trim() === '') throw new Error(`Google sign-in: ${field} is required with googleClientSecretArn`);
      }
      if (!/^https:\/\//.test(g.redirectUri)) throw new Error(`Google sign-in: redirectUri ${JSON.stringify(g.redirectUri)} must be https`);
      this.google = {
        ...g,
        issuer: g.issuer ?? DEFAULT_GOOGLE_ISSUER,
        clientSecretArn: completeSecretArn('googleClientSecretArn', g.clientSecretArn),
      };
    }
  }

  /** How the route's function is wired (environment and grants). */
  forRoute(route: RouteSpec): RouteAuthWiring {
    const environment: Record<string, string> = {};
    const statements: iam.PolicyStatement[] = [];
    const is = (names: readonly string[]) => route.service === AUTH_SERVICE && names.includes(route.function);

    if (is(SIGNING_FUNCTIONS)) {
      environment[SIGNING_SECRET_ENV] = this.signingSecret.secretArn;
      statements.push(readSecret('SigningKeyRead', this.signingSecret.secretArn));
      if (this.previousSigningSecretArn) {
        environment[PREVIOUS_SIGNING_SECRET_ENV] = this.previousSigningSecretArn;
        statements.push(readSecret('PreviousSigningKeyRead', this.previousSigningSecretArn));
      }
    }

    if (this.google && is(GOOGLE_FUNCTIONS)) {
      environment.GOOGLE_CLIENT_ID = this.google.clientId;
      environment.GOOGLE_REDIRECT_URI = this.google.redirectUri;
      environment.GOOGLE_ISSUER = this.google.issuer!;
      // The client secret, by ARN only: functions/auth reads its value
      // from Secrets Manager on the first code exchange
      // (`lite_lambda::secret_string`, cached per instance). The stack never
      // sets GOOGLE_CLIENT_SECRET (the plain value the local API uses):
      // that would need a dynamic reference
      // (`SecretValue.secretsManager(arn).unsafeUnwrap()`), i.e. the secret
      // in clear text in the function's configuration, visible to anyone
      // with lambda:GetFunctionConfiguration. Both Google functions get the
      // ARN (GoogleConfig::from_env turns Google sign-in on only with all
      // three settings), but only the callback may read the secret: the
      // start route only builds the authorization URL.
      environment[GOOGLE_CLIENT_SECRET_ARN_ENV] = this.google.clientSecretArn;
      if (is(GOOGLE_SECRET_FUNCTIONS)) statements.push(readSecret('GoogleClientSecretRead', this.google.clientSecretArn));
    }

    return {
      environment,
      grant: (grantee) => {
        for (const s of statements) grantee.grantPrincipal.addToPrincipalPolicy(s);
      },
    };
  }

  /** Throws when routes of the auth service are present but a function this wiring names is not. */
  static checkRoutes(routes: readonly RouteSpec[]): void {
    const auth = routes.filter((r) => r.service === AUTH_SERVICE).map((r) => r.function);
    if (auth.length === 0) return;
    const missing = [...new Set([...SIGNING_FUNCTIONS, ...GOOGLE_FUNCTIONS])].filter((f) => !auth.includes(f));
    if (missing.length > 0) {
      throw new Error(
        `routes.json: the auth service has no function ${missing.join(', ')}; lib/auth.ts wires the signing key and Google ` +
          'sign-in by these names (update SIGNING_FUNCTIONS / GOOGLE_FUNCTIONS with the Rust route table)',
      );
    }
  }
}
