import { sql } from 'drizzle-orm';
import pg from 'pg';
import { qualifiedName } from '../identifiers';
import type { Db } from '../db/client';

/** How the simulated frontends call each demo procedure (by logical name). */
const callTemplates: Record<string, (fn: string) => { text: string; values: unknown[] }> = {
  get_customer: (fn) => ({ text: `SELECT * FROM ${fn}($1)`, values: [rand(200)] }),
  find_customer_by_email: (fn) => ({ text: `SELECT ${fn}($1)`, values: [`customer${rand(200)}@example.com`] }),
  customer_orders: (fn) => ({ text: `SELECT * FROM ${fn}($1)`, values: [rand(200)] }),
  get_product: (fn) => ({ text: `SELECT * FROM ${fn}($1)`, values: [rand(100)] }),
  list_products: (fn) => ({ text: `SELECT * FROM ${fn}($1)`, values: [10] }),
  search_products: (fn) => ({ text: `SELECT * FROM ${fn}($1)`, values: [`${rand(9)}`] }),
  price_with_tax: (fn) => ({ text: `SELECT ${fn}($1)`, values: [rand(5000)] }),
  cart_total: (fn) => ({ text: `SELECT ${fn}($1::jsonb)`, values: [JSON.stringify([{ product: rand(100), qty: rand(3) }])] }),
  place_order: (fn) => ({ text: `SELECT ${fn}($1, $2::jsonb)`, values: [rand(200), JSON.stringify([{ product: rand(100), qty: 1 }])] }),
  order_summary: (fn) => ({ text: `SELECT ${fn}($1)`, values: [rand(50)] }),
  daily_revenue: (fn) => ({ text: `SELECT ${fn}(current_date)`, values: [] }),
  restock: (fn) => ({ text: `CALL ${fn}($1, $2)`, values: [rand(100), 5] }),
  cancel_order: (fn) => ({ text: `CALL ${fn}($1)`, values: [rand(50)] }),
};

function rand(n: number): number {
  return 1 + Math.floor(Math.random() * n);
}

/** Calls per second made by one deployment, by its status: live frontends are busy, others quiet. */
// Previous deployments still get a trickle: stragglers on an old build, as in real life.
const callsPerSecond: Record<string, number> = { live: 12, previous: 3, pending: 0, archived: 0 };

interface Target {
  deployment: string;
  status: string;
  name: string;
  fn: string;
}

/**
 * Simulates frontends: each deployment calls the exact versions its manifest pinned, at a rate
 * that depends on its status, so the usage numbers in the dashboard move.
 */
export function startTraffic(db: Db, url: string, log: (line: string) => void): () => Promise<void> {
  let stopped = false;
  // One small pool per frontend deployment, named the way procver attributes sessions.
  const pools = new Map<string, pg.Pool>();
  const poolFor = (deployment: string) => {
    let p = pools.get(deployment);
    if (!p) {
      const [app, id] = deployment.split('/');
      p = new pg.Pool({ connectionString: url, max: 1, application_name: `${app}@${id}`, idleTimeoutMillis: 30_000 });
      p.on('error', () => undefined);
      pools.set(deployment, p);
    }
    return p;
  };
  let byDeployment = new Map<string, Target[]>();
  const refresh = async () => {
    const rows = await db.execute<{ deployment: string; status: string; name: string; schema: string; physical_name: string }>(sql`
      SELECT d.app || '/' || d.deployment_id AS deployment, d.status::text AS status, p.name, v.schema, v.physical_name
      FROM procver.deployments d
      JOIN procver.deployment_versions dv ON dv.deployment_id = d.id
      JOIN procver.versions v ON v.id = dv.version_id
      JOIN procver.procedures p ON p.id = v.procedure_id
      WHERE v.status <> 'dropped'`);
    const next = new Map<string, Target[]>();
    for (const r of rows.rows) {
      const t = { deployment: r.deployment, status: r.status, name: r.name, fn: qualifiedName(r.schema, r.physical_name) };
      next.set(t.deployment, [...(next.get(t.deployment) ?? []), t]);
    }
    byDeployment = next;
  };
  const loop = async () => {
    let failures = 0;
    let lastRefresh = 0;
    while (!stopped) {
      const tick = Date.now();
      if (tick - lastRefresh > 5000) {
        await refresh().catch(() => undefined);
        lastRefresh = tick;
      }
      for (const targets of byDeployment.values()) {
        const rate = callsPerSecond[targets[0]!.status] ?? 0;
        const calls = Math.floor(rate) + (Math.random() < rate % 1 ? 1 : 0);
        for (let i = 0; i < calls && !stopped; i++) {
          const t = targets[Math.floor(Math.random() * targets.length)]!;
          const template = callTemplates[t.name];
          if (!template) continue;
          const { text, values } = template(t.fn);
          await poolFor(t.deployment)
            .query(text, values)
            .catch((e: Error) => {
              if (++failures % 50 === 1) log(`traffic: ${t.deployment} call to ${t.fn} failed: ${e.message}`);
            });
        }
      }
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - tick))));
    }
  };
  const running = loop();
  return async () => {
    stopped = true;
    await running;
    await Promise.all([...pools.values()].map((p) => p.end().catch(() => undefined)));
  };
}
