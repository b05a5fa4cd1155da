import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { call, procedures, type ProcedureKey, type Queryable } from './generated/procs';

/**
 * The demo shop's storefront: a few pages over the shop's procedures, through the typed calls of
 * the procs.ts this build was compiled with. Every page says in `x-procver-versions` which
 * versions it called, so a rollback can be checked from outside.
 */

const escapeHtml = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const euros = (cents: number | null) => (cents === null ? '–' : `€${(cents / 100).toFixed(2)}`);

interface Page {
  title: string;
  body: string;
  /** the procedures the page called, by signature */
  used: ProcedureKey[];
}

function layout(p: Page): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(p.title)} · Storefront</title></head>
<body><header><a href="/">Storefront</a></header><main><h1>${escapeHtml(p.title)}</h1>${p.body}</main></body></html>`;
}

async function productsPage(db: Queryable): Promise<Page> {
  const products = await call['shop.list_products'](db, 10);
  const rows: string[] = [];
  for (const p of products) {
    const price = p.price_cents === null ? null : await call['shop.price_with_tax'](db, p.price_cents);
    rows.push(`<li data-sku="${escapeHtml(p.sku)}"><a href="/products/${p.id}">${escapeHtml(p.name)}</a> <span class="price">${euros(price)}</span></li>`);
  }
  return { title: 'Products', body: `<ul>${rows.join('')}</ul>`, used: ['shop.list_products(integer)', 'shop.price_with_tax(integer)'] };
}

async function productPage(db: Queryable, id: number): Promise<Page | null> {
  const p = await call['shop.get_product'](db, id);
  if (p.id === null) return null; // a function returning no row yields a row of NULLs
  const price = p.price_cents === null ? null : await call['shop.price_with_tax'](db, p.price_cents);
  return {
    title: p.name ?? '',
    body: `<p>SKU ${escapeHtml(p.sku)}</p><p class="price">${euros(price)} incl. VAT</p><p>${escapeHtml(p.stock)} in stock</p>`,
    used: ['shop.get_product(integer)', 'shop.price_with_tax(integer)'],
  };
}

async function customerPage(db: Queryable, id: number): Promise<Page | null> {
  const [customer] = await call['shop.get_customer'](db, id);
  if (!customer) return null;
  const orders = await call['shop.customer_orders'].named(db, { p_customer: id });
  const list = orders.map((o) => `<li>#${o.id} ${escapeHtml(o.status)} ${euros(o.total_cents)} ${o.created_at?.toISOString().slice(0, 10) ?? ''}</li>`);
  return {
    title: customer.name ?? '',
    body: `<p>${escapeHtml(customer.email)}</p><h2>Orders</h2><ul>${list.join('') || '<li>none yet</li>'}</ul>`,
    used: ['shop.get_customer(integer)', 'shop.customer_orders(integer, integer)'],
  };
}

function send(res: ServerResponse, status: number, html: string, used: ProcedureKey[] = []) {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'x-procver-versions': used.map((k) => `${procedures[k].schema}.${procedures[k].physicalName}`).join(', '),
  });
  res.end(html);
}

/** The request handler, given any pg Pool (or Client) for the shop's database. */
export function createStorefront(db: Queryable): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://storefront').pathname;
    const id = Number(/^\/(?:products|customers)\/(\d{1,9})$/.exec(path)?.[1]);
    const page: Promise<Page | null> =
      path === '/'
        ? productsPage(db)
        : path.startsWith('/products/') && id
          ? productPage(db, id)
          : path.startsWith('/customers/') && id
            ? customerPage(db, id)
            : Promise.resolve(null);
    page.then(
      (p) => (p ? send(res, 200, layout(p), p.used) : send(res, 404, layout({ title: 'Not found', body: '', used: [] }))),
      (e: Error) => {
        // The database refused (e.g. a version this build calls was retired and quarantined).
        console.error(`storefront: ${req.method} ${path}: ${e.message}`);
        send(res, 503, layout({ title: 'Unavailable', body: `<pre>${escapeHtml(e.message)}</pre>`, used: [] }));
      },
    );
  };
}
