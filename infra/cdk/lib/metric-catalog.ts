// The services' own metrics (CloudWatch Embedded Metric Format; Rust side:
// shared/metrics), read from infra/metrics.json, the catalog both sides
// share. Each metric is emitted with exactly one dimension set, its labels,
// so an alarm must name every label: `appMetric` refuses a missing or an
// extra one, and a name the catalog does not have, at synth time.
//
// A business metric's `service` label is its owner, not the process that
// counts it; METRIC_SOURCES says which, in one place. What shared machinery
// counts (http_requests, events_published, events_consumed) carries the
// process's service: a route's or consumer's own `service`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { INFRA_DIR } from './config';

export const METRICS_FILE = path.join(INFRA_DIR, 'metrics.json');
/** The variable naming the namespace on Lambda (`lite_metrics::NAMESPACE_ENV`). */
export const METRICS_NAMESPACE_ENV = 'AMAZON_LITE_METRICS_NAMESPACE';

export interface CatalogMetric {
  readonly name: string;
  readonly kind: 'counter' | 'histogram' | 'gauge';
  readonly unit: string;
  readonly labels: readonly string[];
}

export function loadMetricCatalog(file: string = METRICS_FILE): Map<string, CatalogMetric> {
  const doc = JSON.parse(fs.readFileSync(file, 'utf-8')) as { metrics?: CatalogMetric[] };
  if (!Array.isArray(doc.metrics)) throw new Error(`${file}: no "metrics" list`);
  const out = new Map<string, CatalogMetric>();
  for (const m of doc.metrics) {
    if (typeof m.name !== 'string' || !Array.isArray(m.labels) || !m.labels.includes('service')) {
      throw new Error(`${file}: metric ${JSON.stringify(m.name)} needs a name and labels including service`);
    }
    out.set(m.name, m);
  }
  return out;
}

/**
 * The `service` label of each business metric: its owner, fixed whichever
 * process counts it (shared/metrics `service::owner`).
 */
export const METRIC_SOURCES = {
  orders_placed: 'orders',
  orders_confirmed: 'orders',
  orders_failed: 'orders',
  orders_cancelled: 'orders',
  orders_shipped: 'orders',
  checkout_duration: 'orders',
  payment_authorizations: 'payments',
  stock_reservations: 'inventory',
  logins: 'auth',
  saga_executions: 'checkout',
  orders_pending_oldest_age: 'orders',
} as const;

export interface AppMetricOptions {
  readonly period?: Duration;
  readonly statistic?: string;
  readonly label?: string;
}

/** Builds the services' metrics of one namespace (`AmazonLite/<env>`). */
export class MetricCatalog {
  readonly metrics: Map<string, CatalogMetric>;

  constructor(
    readonly namespace: string,
    metrics: Map<string, CatalogMetric> = loadMetricCatalog(),
  ) {
    this.metrics = metrics;
  }

  /** Metric `name` with exactly its labels as dimensions. */
  metric(name: string, labels: Readonly<Record<string, string>>, options: AppMetricOptions = {}): cloudwatch.Metric {
    const spec = this.metrics.get(name);
    if (!spec) throw new Error(`metric ${name} is not in infra/metrics.json`);
    const given = Object.keys(labels).sort();
    const expected = [...spec.labels].sort();
    if (given.join(',') !== expected.join(',')) {
      throw new Error(`metric ${name}: labels ${given.join(', ')} differ from its dimension set ${expected.join(', ')}`);
    }
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName: name,
      dimensionsMap: { ...labels },
      period: options.period ?? Duration.minutes(5),
      statistic: options.statistic ?? (spec.kind === 'counter' ? cloudwatch.Stats.SUM : spec.kind === 'gauge' ? cloudwatch.Stats.MAXIMUM : 'p99'),
      label: options.label,
    });
  }

  /**
   * Every series of `name` whatever its label values (dashboards only: an
   * alarm cannot watch a SEARCH).
   */
  search(name: string, statistic: string, label: string, period: Duration = Duration.minutes(5), filter: Readonly<Record<string, string>> = {}): cloudwatch.MathExpression {
    const spec = this.metrics.get(name);
    if (!spec) throw new Error(`metric ${name} is not in infra/metrics.json`);
    const where = Object.entries(filter).map(([k, v]) => ` ${k}="${v}"`).join('');
    return new cloudwatch.MathExpression({
      expression: `SEARCH('{${this.namespace},${spec.labels.join(',')}} MetricName="${name}"${where}', '${statistic}', ${period.toSeconds()})`,
      usingMetrics: {},
      label,
      period,
    });
  }
}
