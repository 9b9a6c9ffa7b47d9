// The JSON files beside infra/cdk are the single sources of truth that the
// Rust side reads too:
//   infra/table.json     - the single table (the DynamoDB emulator test creates
//                          it from the same file);
//   infra/routes.json    - generated from the Rust route table (a Rust test
//                          keeps it equal to the code);
//   infra/consumers.json - the event consumers (queue, DLQ, rule, function
//                          each), generated from the services' consumers
//                          (`amazon-lite consumers`; a Rust test keeps it
//                          equal to the code).
// This module parses and validates them so that a malformed file fails the
// synth with a message naming the entry, never a half-built stack.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** infra/ */
export const INFRA_DIR = path.resolve(__dirname, '..', '..');
/** The repository root (the Cargo workspace). */
export const REPO_ROOT = path.resolve(INFRA_DIR, '..');
export const TABLE_FILE = path.join(INFRA_DIR, 'table.json');
export const ROUTES_FILE = path.join(INFRA_DIR, 'routes.json');
export const CONSUMERS_FILE = path.join(INFRA_DIR, 'consumers.json');

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'ANY'] as const;
export type RouteMethod = (typeof HTTP_METHODS)[number];

/** Who may call a route. Verified by the shared Rust auth layer, not by API Gateway (see auth.ts). */
export const ROUTE_AUTH = ['public', 'bearer', 'admin'] as const;
export type RouteAuth = (typeof ROUTE_AUTH)[number];

/** What the route's function may do to the single table (see table-access.ts). */
export const TABLE_ACCESS = ['none', 'read', 'readWrite'] as const;
export type TableAccess = (typeof TABLE_ACCESS)[number];

export interface RouteSpec {
  readonly method: RouteMethod;
  /** API Gateway path, e.g. `/v1/products/{id}`. */
  readonly path: string;
  /** The crate under functions/<service>/ whose binary (named like the service) serves the route. */
  readonly service: string;
  /** Unique name of the route's own Lambda function, e.g. `catalog-get-product`. */
  readonly function: string;
  readonly auth: RouteAuth;
  readonly table: TableAccess;
}

export interface IndexSpec {
  readonly indexName: string;
  readonly partitionKey: string;
  readonly sortKey: string;
}

export const STREAM_VIEW_TYPES = ['NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES', 'KEYS_ONLY'] as const;
export type StreamViewTypeName = (typeof STREAM_VIEW_TYPES)[number];

export interface TableSpec {
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly globalSecondaryIndexes: readonly IndexSpec[];
  readonly timeToLiveAttribute: string;
  readonly stream: StreamViewTypeName;
}

/** One event consumer: its own SQS queue + DLQ, fed by an EventBridge rule on `detailTypes`. */
export interface ConsumerSpec {
  /** The Rust `Handler::name()`: names the queue's function and its idempotency records. */
  readonly name: string;
  /** The crate under functions/<service>/ that builds the binary. */
  readonly service: string;
  /** The Lambda binary that runs it: its service's one binary, told which consumer to run by AMAZON_LITE_CONSUMER. */
  readonly binary: string;
  /** EventBridge detail-types the rule matches, e.g. `product.created.v1`. */
  readonly detailTypes: readonly string[];
}

/** `METHOD path`, the API Gateway route key. */
export function routeKey(route: Pick<RouteSpec, 'method' | 'path'>): string {
  return `${route.method} ${route.path}`;
}

/** The distinct services, in order of first appearance. */
export function servicesOf(routes: readonly RouteSpec[]): string[] {
  return [...new Set(routes.map((r) => r.service))];
}

export function loadRoutes(file: string = ROUTES_FILE): RouteSpec[] {
  return parseRoutes(readJson(file), file);
}

export function loadConsumers(file: string = CONSUMERS_FILE): ConsumerSpec[] {
  return parseConsumers(readJson(file), file);
}

export function loadTableSpec(file: string = TABLE_FILE): TableSpec {
  return parseTableSpec(readJson(file), file);
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf-8'));
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
}

const NAME = /^[a-z][a-z0-9-]*$/;
// API Gateway HTTP API paths: literal segments and {param} / {proxy+} variables.
const PATH = /^\/([A-Za-z0-9._~-]+|\{[A-Za-z_][A-Za-z0-9_]*\+?\})?(\/([A-Za-z0-9._~-]+|\{[A-Za-z_][A-Za-z0-9_]*\+?\}))*$/;
const ATTRIBUTE = /^[A-Za-z0-9_.-]{1,255}$/;

export function parseRoutes(json: unknown, source = 'routes.json'): RouteSpec[] {
  const fail = (msg: string): never => {
    throw new Error(`${source}: ${msg}`);
  };
  if (!isObject(json) || !Array.isArray(json.routes)) fail('expected {"routes": [...]}');
  const raw = (json as { routes: unknown[] }).routes;
  if (raw.length === 0) fail('no routes');

  const keys = new Set<string>();
  const functions = new Set<string>();
  return raw.map((entry, i) => {
    const at = `routes[${i}]`;
    if (!isObject(entry)) return fail(`${at} is not an object`);
    const str = (field: string): string => {
      const v = entry[field];
      return typeof v === 'string' && v.length > 0 ? v : fail(`${at}.${field} must be a non-empty string`);
    };
    const method = oneOf(str('method'), HTTP_METHODS, `${at}.method`, fail);
    const routePath = str('path');
    if (!PATH.test(routePath)) fail(`${at}.path ${JSON.stringify(routePath)} is not an API Gateway path`);
    const service = str('service');
    if (!NAME.test(service)) fail(`${at}.service ${JSON.stringify(service)} must match ${NAME}`);
    const fn = str('function');
    if (!NAME.test(fn)) fail(`${at}.function ${JSON.stringify(fn)} must match ${NAME}`);
    const auth = oneOf(str('auth'), ROUTE_AUTH, `${at}.auth`, fail);
    const table = oneOf(str('table'), TABLE_ACCESS, `${at}.table`, fail);

    const key = routeKey({ method, path: routePath });
    if (keys.has(key)) fail(`${at}: duplicate route ${key}`);
    keys.add(key);
    if (functions.has(fn)) fail(`${at}: duplicate function name ${fn}`);
    functions.add(fn);
    return { method, path: routePath, service, function: fn, auth, table };
  });
}

// `<entity>.<verb>.v<version>`, what `Envelope::detail_type()` produces.
const DETAIL_TYPE = /^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+\.v[0-9]+$/;

export function parseConsumers(json: unknown, source = 'consumers.json'): ConsumerSpec[] {
  const fail = (msg: string): never => {
    throw new Error(`${source}: ${msg}`);
  };
  if (!isObject(json) || !Array.isArray(json.consumers)) fail('expected {"consumers": [...]}');
  const names = new Set<string>();
  return (json as { consumers: unknown[] }).consumers.map((entry, i) => {
    const at = `consumers[${i}]`;
    if (!isObject(entry)) return fail(`${at} is not an object`);
    const unknown = Object.keys(entry).filter((k) => !['name', 'service', 'binary', 'detailTypes'].includes(k));
    if (unknown.length > 0) fail(`${at} has unknown fields ${unknown.join(', ')}`);
    const name = (field: string): string => {
      const v = entry[field];
      return typeof v === 'string' && NAME.test(v) ? v : fail(`${at}.${field} must match ${NAME}`);
    };
    const consumer = name('name');
    if (names.has(consumer)) fail(`${at}: duplicate consumer ${consumer}`);
    names.add(consumer);
    const types = entry.detailTypes;
    if (!Array.isArray(types) || types.length === 0) fail(`${at}.detailTypes must be a non-empty list`);
    const detailTypes = (types as unknown[]).map((t, j) =>
      typeof t === 'string' && DETAIL_TYPE.test(t) ? t : fail(`${at}.detailTypes[${j}] must be <entity>.<verb>.v<version>`),
    );
    if (new Set(detailTypes).size !== detailTypes.length) fail(`${at}.detailTypes has duplicates`);
    return { name: consumer, service: name('service'), binary: name('binary'), detailTypes };
  });
}

export function parseTableSpec(json: unknown, source = 'table.json'): TableSpec {
  const fail = (msg: string): never => {
    throw new Error(`${source}: ${msg}`);
  };
  if (!isObject(json)) return fail('expected an object');
  const attr = (obj: Record<string, unknown>, field: string, at: string): string => {
    const v = obj[field];
    return typeof v === 'string' && ATTRIBUTE.test(v) ? v : fail(`${at}${field} must be an attribute name`);
  };
  const gsisRaw = json.globalSecondaryIndexes;
  if (!Array.isArray(gsisRaw)) fail('globalSecondaryIndexes must be an array');
  const globalSecondaryIndexes = (gsisRaw as unknown[]).map((g, i) => {
    const at = `globalSecondaryIndexes[${i}].`;
    if (!isObject(g)) return fail(`${at} is not an object`);
    return {
      indexName: attr(g, 'indexName', at),
      partitionKey: attr(g, 'partitionKey', at),
      sortKey: attr(g, 'sortKey', at),
    };
  });
  const stream = typeof json.stream === 'string' ? json.stream : fail('stream must be a string');
  return {
    partitionKey: attr(json, 'partitionKey', ''),
    sortKey: attr(json, 'sortKey', ''),
    globalSecondaryIndexes,
    timeToLiveAttribute: attr(json, 'timeToLiveAttribute', ''),
    stream: oneOf(stream, STREAM_VIEW_TYPES, 'stream', fail),
  };
}

function oneOf<T extends string>(value: string, allowed: readonly T[], at: string, fail: (m: string) => never): T {
  return (allowed as readonly string[]).includes(value)
    ? (value as T)
    : fail(`${at} is ${JSON.stringify(value)}, expected one of ${allowed.join('|')}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
