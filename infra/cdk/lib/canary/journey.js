// The synthetic shopper's journey (plain CommonJS: the canary's inline
// script is this file plus a handler, canary.ts; the tests run the same
// function against a local server). Guest only, and it leaves nothing
// behind but an empty guest cart, which expires like any other.
//
//   browse   GET /v1/products?limit=5, then GET /v1/products/{id} of the first
//   search   GET /v1/search?q=<a word of its name> finds something
//   cart     POST /v1/cart/items {productId, quantity: 1} as a guest (cartToken),
//            then DELETE /v1/cart/items/{productId} with X-Cart-Token: the line is gone
//
// Every request carries X-Correlation-Id `canary-<run>-<step>`, so a failed
// run's requests are easy to find in the services' logs.
'use strict';

/** A failed expectation of one step. */
class JourneyError extends Error {
  constructor(step, message) {
    super(`${step}: ${message}`);
    this.name = 'JourneyError';
    this.step = step;
  }
}

/**
 * Runs the journey. `opts`: baseUrl (the API's URL), fetch (WHATWG fetch),
 * step(name, fn) (wraps each step: Synthetics' executeStep on AWS),
 * runId (correlation id prefix), timeoutMs (per request).
 * Resolves to what it did: { productId, query, found, cartToken }.
 */
async function runJourney(opts) {
  const base = String(opts.baseUrl || '').replace(/\/+$/, '');
  if (!/^https?:\/\//.test(base)) throw new JourneyError('setup', `API URL ${JSON.stringify(opts.baseUrl)} is not http(s)`);
  const step = opts.step || ((_name, fn) => fn());
  const runId = opts.runId || Date.now().toString(36);
  const timeoutMs = opts.timeoutMs || 10000;

  const call = async (name, method, path, { body, headers = {}, expect = 200 } = {}) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    let res;
    try {
      res = await opts.fetch(`${base}${path}`, {
        method,
        headers: {
          Accept: 'application/json',
          'X-Correlation-Id': `canary-${runId}-${name}`,
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
      });
    } catch (err) {
      throw new JourneyError(name, `${method} ${path}: ${err && err.name === 'AbortError' ? `no answer in ${timeoutMs} ms` : err}`);
    } finally {
      clearTimeout(timer);
    }
    const text = await res.text();
    if (res.status !== expect) {
      throw new JourneyError(name, `${method} ${path} answered ${res.status}, expected ${expect}: ${text.slice(0, 300)}`);
    }
    try {
      return { json: JSON.parse(text), headers: res.headers };
    } catch (_) {
      throw new JourneyError(name, `${method} ${path}: the body is not JSON: ${text.slice(0, 300)}`);
    }
  };
  const lineOf = (cart, productId) => (Array.isArray(cart.items) ? cart.items.find((i) => i && i.productId === productId) : undefined);

  const product = await step('browse', async () => {
    const { json: page } = await call('list-products', 'GET', '/v1/products?limit=5');
    if (!Array.isArray(page.items) || page.items.length === 0) throw new JourneyError('browse', 'the product listing is empty');
    const id = page.items[0].id;
    if (typeof id !== 'string' || id === '') throw new JourneyError('browse', 'the first listed product has no id');
    const { json: one } = await call('get-product', 'GET', `/v1/products/${encodeURIComponent(id)}`);
    if (one.id !== id) throw new JourneyError('browse', `GET /v1/products/${id} answered product ${JSON.stringify(one.id)}`);
    return one;
  });

  const query = String(product.name || '')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length >= 3)[0] || String(product.name || 'a');
  const found = await step('search', async () => {
    const { json } = await call('search', 'GET', `/v1/search?q=${encodeURIComponent(query)}&limit=5`);
    if (!Array.isArray(json.items)) throw new JourneyError('search', 'the answer has no items list');
    if (json.items.length === 0) throw new JourneyError('search', `nothing found for ${JSON.stringify(query)} (from ${JSON.stringify(product.name)})`);
    return json.items.length;
  });

  const cartToken = await step('cart', async () => {
    const { json: added, headers } = await call('add-to-cart', 'POST', '/v1/cart/items', { body: { productId: product.id, quantity: 1 } });
    const token = added.cartToken || headers.get('x-cart-token');
    if (!token) throw new JourneyError('cart', 'a guest cart came back without a cart token');
    if (!lineOf(added, product.id)) throw new JourneyError('cart', `the cart has no line for ${product.id}`);
    const { json: after } = await call('remove-from-cart', 'DELETE', `/v1/cart/items/${encodeURIComponent(product.id)}`, {
      headers: { 'X-Cart-Token': token },
    });
    if (lineOf(after, product.id)) throw new JourneyError('cart', `the line for ${product.id} is still in the cart after DELETE`);
    return token;
  });

  return { productId: product.id, query, found, cartToken };
}

exports.runJourney = runJourney;
exports.JourneyError = JourneyError;
