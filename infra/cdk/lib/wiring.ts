// What a function needs beyond its kind's defaults: extra environment
// variables and the IAM statements that go with them. Route functions get
// one from auth.ts (`RouteAuthWiring`) and, for the checkout and payments
// pieces, from payments.ts; event consumers from payments.ts. Keeping the
// variable and its grant in one value means a function never gets an ARN
// it may not use, or a grant without the variable that names the resource.
import * as iam from 'aws-cdk-lib/aws-iam';

export interface FunctionWiring {
  /** Extra environment for the function. */
  readonly environment: Readonly<Record<string, string>>;
  /** Adds the function's extra permissions to its role. */
  grant(grantee: iam.IGrantable): void;
}

export const NO_WIRING: FunctionWiring = { environment: {}, grant: () => {} };

/** A wiring of fixed variables and statements. */
export function wiring(environment: Record<string, string>, statements: readonly iam.PolicyStatement[] = []): FunctionWiring {
  return {
    environment,
    grant: (grantee) => {
      for (const s of statements) grantee.grantPrincipal.addToPrincipalPolicy(s);
    },
  };
}

/** Several wirings as one (a later variable of the same name is a bug: it throws). */
export function combine(...parts: readonly FunctionWiring[]): FunctionWiring {
  const environment: Record<string, string> = {};
  for (const p of parts) {
    for (const [k, v] of Object.entries(p.environment)) {
      if (k in environment) throw new Error(`environment variable ${k} is wired twice`);
      environment[k] = v;
    }
  }
  return {
    environment,
    grant: (grantee) => {
      for (const p of parts) p.grant(grantee);
    },
  };
}
