// Product search on OpenSearch Serverless (Rust side: functions/search,
// `search::opensearch::OpenSearchIndex::from_env` reads OPENSEARCH_ENDPOINT
// and OPENSEARCH_INDEX and signs every request with SigV4, service `aoss`).
//
//   search-query, search-suggest (routes)  ──read──►  collection `<stack>-search`, index `products`
//   search-indexer (consumer)              ──write─►  (creates the index with its mapping on first use)
//
// What is deployed (L1 constructs, aws-opensearchserverless):
//   - an encryption policy (AWS-owned key) and a network policy for the
//     collection, both created before it (CloudFormation refuses a
//     collection that no encryption policy matches);
//   - a data access policy: the search route functions' roles may read
//     documents of the collection's indexes (aoss:ReadDocument,
//     aoss:DescribeIndex), the search-indexer's role may also create and
//     update indexes and write documents; created before the collection too;
//   - the SEARCH collection itself;
//   - on each of those roles, the IAM side: aoss:APIAccessAll on the
//     collection's ARN (OpenSearch Serverless checks IAM *and* the data
//     access policy: a role needs both).
//
// Where it lives: in the search service's nested stack (`SearchRoutes`), not
// in the root. The route functions' roles are created there, the data access
// policy names them, the collection depends on the policy and the functions
// need the collection's endpoint: in the root, that would be root → nested
// (the policy names nested roles) and nested → root (the endpoint), a cycle.
// In the nested stack everything is local; the root's search-indexer role is
// passed in as a parameter and the root's indexer reads the endpoint and the
// ARN from the nested stack's outputs. Without any search route (synthetic
// route tables in tests) the collection is created in the root instead.
import * as crypto from 'node:crypto';
import { Lazy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as aoss from 'aws-cdk-lib/aws-opensearchserverless';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { ConsumerSpec, RouteSpec } from './config';
import { type FunctionWiring, NO_WIRING, combine, wiring } from './wiring';

export const SEARCH_SERVICE = 'search';
/** The consumer that writes the index (product events). */
export const SEARCH_INDEXER_CONSUMER = 'search-indexer';
export const OPENSEARCH_ENDPOINT_ENV = 'OPENSEARCH_ENDPOINT';
export const OPENSEARCH_INDEX_ENV = 'OPENSEARCH_INDEX';
/** The Rust side's default index name (`search::opensearch::DEFAULT_INDEX`). */
export const DEFAULT_SEARCH_INDEX = 'products';
/**
 * Search routes whose table access is `none` but that sign pagination
 * cursors (`ctx.cursors.get()` on every request): they read the cursor key,
 * which route-function.ts grants to table users only.
 */
export const SEARCH_CURSOR_FUNCTIONS = ['search-query'] as const;

/** Data access policy permissions of the search route functions. */
export const SEARCH_READ_PERMISSIONS = ['aoss:ReadDocument', 'aoss:DescribeIndex'] as const;
/** Data access policy permissions of the indexer (its `ensure_index` creates the index with the mapping). */
export const SEARCH_WRITE_PERMISSIONS = [
  'aoss:CreateIndex',
  'aoss:UpdateIndex',
  'aoss:DescribeIndex',
  'aoss:WriteDocument',
  'aoss:ReadDocument',
] as const;

// Collection and policy names: 3 to 32 characters, lower-case letters,
// digits and hyphens, starting with a letter.
export const COLLECTION_NAME = /^[a-z][a-z0-9-]{2,31}$/;
const SUFFIX = '-search';
// Index names as the Rust side accepts them, and nothing that would change
// the meaning of the policy's resource pattern (`*`, `/`).
const INDEX_NAME = /^[a-z0-9][a-z0-9._-]{0,254}$/;

/**
 * `<stack name>-search`, lower-cased, with every other character than a
 * letter, digit or hyphen turned into a hyphen. Names longer than 32
 * characters keep the first 16 characters and add 8 hex digits of the stack
 * name's SHA-256, so two long stack names that share a prefix still differ.
 */
export function searchCollectionName(stackName: string): string {
  if (Token.isUnresolved(stackName)) {
    throw new Error('the stack name is not known at synth: set searchCollectionName');
  }
  let base = stackName
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '');
  if (base === '') base = 'amazon-lite';
  const name = `${base}${SUFFIX}`;
  if (name.length <= 32) return name;
  const hash = crypto.createHash('sha256').update(stackName).digest('hex').slice(0, 8);
  return `${base.slice(0, 16).replace(/-+$/, '')}-${hash}${SUFFIX}`;
}

export function checkCollectionName(name: string): string {
  if (!COLLECTION_NAME.test(name)) {
    throw new Error(
      `searchCollectionName ${JSON.stringify(name)}: 3 to 32 lower-case letters, digits or hyphens, starting with a letter`,
    );
  }
  return name;
}

export function checkIndexName(name: string): string {
  if (!INDEX_NAME.test(name)) {
    throw new Error(`searchIndexName ${JSON.stringify(name)}: lower-case letters, digits, '.', '_' or '-', not starting with one of '._-'`);
  }
  return name;
}

/** The role ARN behind a grantee (a Lambda function's execution role). */
function roleArnOf(grantee: iam.IGrantable): string {
  const principal = grantee.grantPrincipal;
  if (principal instanceof iam.Role || 'roleArn' in principal) return (principal as iam.IRole).roleArn;
  throw new Error('OpenSearch Serverless access is granted to IAM roles only');
}

export interface SearchCollectionProps {
  readonly collectionName: string;
  readonly indexName: string;
  /** Standby replicas in a second Availability Zone (twice the minimum capacity). Default true. */
  readonly standbyReplicas?: boolean;
}

/** The collection, its three policies and the grants. */
export class SearchCollection extends Construct {
  readonly collectionName: string;
  readonly indexName: string;
  readonly encryptionPolicy: aoss.CfnSecurityPolicy;
  readonly networkPolicy: aoss.CfnSecurityPolicy;
  readonly accessPolicy: aoss.CfnAccessPolicy;
  readonly collection: aoss.CfnCollection;
  /** Roles (ARNs) that may read, and that may write, the collection's indexes. */
  private readonly readers: string[] = [];
  private readonly writers: string[] = [];

  constructor(scope: Construct, id: string, props: SearchCollectionProps) {
    super(scope, id);
    this.collectionName = checkCollectionName(props.collectionName);
    this.indexName = checkIndexName(props.indexName);
    const name = this.collectionName;
    const collectionRule = { ResourceType: 'collection', Resource: [`collection/${name}`] };

    this.encryptionPolicy = new aoss.CfnSecurityPolicy(this, 'EncryptionPolicy', {
      name,
      type: 'encryption',
      description: `Amazon Lite search: ${name} encrypted with an AWS-owned key`,
      policy: JSON.stringify({ Rules: [collectionRule], AWSOwnedKey: true }),
    });

    // Public network access to the collection endpoint only (no Dashboards).
    // The functions run outside any VPC (as every function of this stack),
    // so a VPC-only collection would need a VPC, an OpenSearch Serverless
    // VPC endpoint (billed per hour and AZ) and the functions in that VPC
    // with endpoints for DynamoDB, SQS, Secrets Manager and X-Ray. "Public"
    // here means reachable, not open: every request must be SigV4-signed by
    // a principal that both IAM (aoss:APIAccessAll) and the data access
    // policy below allow; anything else gets 403.
    this.networkPolicy = new aoss.CfnSecurityPolicy(this, 'NetworkPolicy', {
      name,
      type: 'network',
      description: `Amazon Lite search: ${name} endpoint reachable from the Lambda functions (public, IAM-authorized)`,
      policy: JSON.stringify([{ Description: 'collection endpoint, no dashboards', Rules: [collectionRule], AllowFromPublic: true }]),
    });

    // Rendered at synth from the roles granted meanwhile (grantRead/grantWrite).
    const stack = Stack.of(this);
    const indexes = [`index/${name}/*`];
    this.accessPolicy = new aoss.CfnAccessPolicy(this, 'DataAccessPolicy', {
      name,
      type: 'data',
      description: `Amazon Lite search: who may read and write the indexes of ${name}`,
      policy: Lazy.string({
        produce: () =>
          stack.toJsonString([
            ...(this.readers.length === 0
              ? []
              : [
                  {
                    Description: 'search routes: read documents',
                    Rules: [{ ResourceType: 'index', Resource: indexes, Permission: [...SEARCH_READ_PERMISSIONS] }],
                    Principal: [...this.readers],
                  },
                ]),
            ...(this.writers.length === 0
              ? []
              : [
                  {
                    Description: 'search indexer: create and update the index, write documents',
                    Rules: [{ ResourceType: 'index', Resource: indexes, Permission: [...SEARCH_WRITE_PERMISSIONS] }],
                    Principal: [...this.writers],
                  },
                ]),
          ]),
      }),
    });
    this.node.addValidation({
      validate: () => (this.readers.length + this.writers.length === 0 ? [`${this.node.path}: no role may use the search collection`] : []),
    });

    this.collection = new aoss.CfnCollection(this, 'Collection', {
      name,
      type: 'SEARCH',
      description: 'Amazon Lite product search',
      standbyReplicas: props.standbyReplicas === false ? 'DISABLED' : 'ENABLED',
    });
    // All three policies first: the encryption policy is required for the
    // collection to be created, and with the network and data access
    // policies in place the endpoint answers the functions as soon as it
    // exists.
    this.collection.addResourceDependency(this.encryptionPolicy);
    this.collection.addResourceDependency(this.networkPolicy);
    this.collection.addResourceDependency(this.accessPolicy);
  }

  /** The collection endpoint (https://<id>.<region>.aoss.amazonaws.com). */
  get endpoint(): string {
    return this.collection.attrCollectionEndpoint;
  }

  get collectionArn(): string {
    return this.collection.attrArn;
  }

  /** The IAM half of the access: aoss:APIAccessAll on this collection only. */
  apiAccess(): iam.PolicyStatement {
    return new iam.PolicyStatement({ sid: 'SearchCollectionApiAccess', actions: ['aoss:APIAccessAll'], resources: [this.collectionArn] });
  }

  grantRead(grantee: iam.IGrantable): void {
    this.readers.push(roleArnOf(grantee));
    grantee.grantPrincipal.addToPrincipalPolicy(this.apiAccess());
  }

  grantWrite(grantee: iam.IGrantable): void {
    this.writers.push(roleArnOf(grantee));
    grantee.grantPrincipal.addToPrincipalPolicy(this.apiAccess());
  }
}

export interface SearchWiringProps {
  readonly collectionName: string;
  readonly indexName: string;
  readonly standbyReplicas?: boolean;
  /** The pagination cursor key (see SEARCH_CURSOR_FUNCTIONS). */
  readonly cursorSecret: secretsmanager.ISecret;
}

/** The search functions' variables and grants; creates the collection where it is first needed. */
export class SearchWiring {
  private search?: SearchCollection;

  constructor(
    private readonly root: Stack,
    private readonly props: SearchWiringProps,
  ) {
    checkCollectionName(props.collectionName);
    checkIndexName(props.indexName);
  }

  /** The collection, once a search function has asked for it. */
  get collection(): SearchCollection | undefined {
    return this.search;
  }

  private collectionIn(scope: Construct): SearchCollection {
    if (!this.search) {
      this.search = new SearchCollection(scope, 'Search', {
        collectionName: this.props.collectionName,
        indexName: this.props.indexName,
        standbyReplicas: this.props.standbyReplicas,
      });
    }
    return this.search;
  }

  private environment(search: SearchCollection): Record<string, string> {
    return { [OPENSEARCH_ENDPOINT_ENV]: search.endpoint, [OPENSEARCH_INDEX_ENV]: search.indexName };
  }

  /** Every search route function reads; `scope` is the search service's nested stack. */
  forRoute(route: RouteSpec, scope: Construct): FunctionWiring {
    if (route.service !== SEARCH_SERVICE) return NO_WIRING;
    const search = this.collectionIn(scope);
    if (Stack.of(search) !== Stack.of(scope)) {
      throw new Error(`${route.function}: the search collection is in ${Stack.of(search).node.path}, not in the search routes' stack`);
    }
    const read: FunctionWiring = { environment: this.environment(search), grant: (grantee) => search.grantRead(grantee) };
    if (!(SEARCH_CURSOR_FUNCTIONS as readonly string[]).includes(route.function) || route.table !== 'none') return read;
    return combine(
      read,
      wiring({}, [
        new iam.PolicyStatement({
          sid: 'CursorKeyRead',
          actions: ['secretsmanager:GetSecretValue'],
          resources: [this.props.cursorSecret.secretArn],
        }),
      ]),
    );
  }

  /** The indexer writes (the collection is in the search routes' stack when there are search routes, else in the root). */
  forConsumer(spec: ConsumerSpec): FunctionWiring {
    if (spec.name !== SEARCH_INDEXER_CONSUMER) return NO_WIRING;
    const search = this.collectionIn(this.root);
    return { environment: this.environment(search), grant: (grantee) => search.grantWrite(grantee) };
  }

  /** Throws when consumers.json has a search consumer this wiring does not know (it would start without its variables). */
  static check(consumers: readonly ConsumerSpec[]): void {
    const unknown = consumers.filter((c) => c.service === SEARCH_SERVICE && c.name !== SEARCH_INDEXER_CONSUMER).map((c) => c.name);
    if (unknown.length > 0) {
      throw new Error(
        `consumers.json: search consumer ${unknown.join(', ')} has no wiring in lib/search.ts (only ${SEARCH_INDEXER_CONSUMER}); ` +
          `the search binaries do not start without ${OPENSEARCH_ENDPOINT_ENV}`,
      );
    }
  }
}

