import { expect, type Page, test } from "@playwright/test";

const unique = () => `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

async function signUp(page: Page, next = "/") {
  await page.goto(`/signup?next=${encodeURIComponent(next)}`);
  await fillSignUp(page);
}

async function fillSignUp(page: Page) {
  await page.getByLabel("Name").fill("Test Shopper");
  await page.getByLabel("Email").fill(`shopper-${unique()}@example.com`);
  await page.getByLabel("Password").fill("a long passphrase for tests");
  await page.getByRole("button", { name: "Create account" }).click();
}

async function fillNewAddress(page: Page) {
  await page.getByLabel("Address line 1").fill("1 Main Street");
  await page.getByLabel("City").fill("Springfield");
  await page.getByLabel("Region").fill("IL");
  await page.getByLabel("Postal code").fill("62701");
  await page.getByLabel("Country").fill("US");
}

/** Opens the n-th product of a listing and returns its name. */
async function openProduct(page: Page, listing: string, n: number): Promise<string> {
  await page.goto(listing);
  const link = page.getByRole("list", { name: "Products" }).getByRole("link").nth(n);
  const name = (await link.textContent())!.trim();
  await link.click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(name);
  return name;
}

test("browse, search with a typo, guest cart, sign up, merged cart, Visa checkout confirmed", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1, name: "Shop all products" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();

  // Browse: a category from the listing's filters; focus lands on the new page's heading.
  const browse = page.getByRole("list", { name: "Products" }).getByRole("link").first();
  await browse.click();
  await expect(page.getByRole("heading", { level: 1 })).toBeFocused();
  await page.goBack();

  const search = page.getByRole("combobox", { name: "Search products" });
  await search.fill("labtop");
  await expect(page.getByRole("listbox", { name: "Suggestions" }).getByRole("option").first()).toBeVisible();
  await search.press("Enter");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Results for “labtop”");
  const results = page.getByRole("list", { name: "Search results" });
  await expect(results.getByRole("link").first()).toContainText(/laptop/i);

  const first = results.getByRole("link").first();
  const name = (await first.textContent())!.trim();
  await first.click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(name);
  await page.getByRole("button", { name: "Add to cart" }).click();
  await expect(page.getByText("Added to cart.")).toBeVisible();

  await page.getByRole("link", { name: "Cart" }).click();
  await expect(page.getByRole("rowheader", { name })).toBeVisible();
  await page.getByRole("link", { name: "Checkout" }).click();

  await expect(page.getByRole("heading", { level: 1, name: "Sign in" })).toBeVisible();
  await page.getByRole("link", { name: "Create an account" }).click();
  await fillSignUp(page);

  await expect(page.getByRole("heading", { level: 1, name: "Checkout" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Account" })).toBeVisible();
  // The guest line was merged into the new account's cart.
  await expect(page.getByRole("region", { name: "Order summary" })).toContainText(name);

  await fillNewAddress(page);
  await page.getByLabel("Test card").selectOption({ label: "Visa (succeeds)" });
  await page.getByRole("button", { name: "Place order" }).click();

  await expect(page).toHaveURL(/\/orders\/ord_/);
  await expect(page.getByTestId("order-status")).toHaveText("Confirmed", { timeout: 30_000 });

  await page.getByRole("link", { name: "Cart" }).click();
  await expect(page.getByText("Your cart is empty.")).toBeVisible();
});

test("a declined card fails the order in plain words and the stock comes back", async ({ page }) => {
  await signUp(page);
  await expect(page.getByRole("link", { name: "Account" })).toBeVisible();
  await openProduct(page, "/?sort=price_desc", 3);
  const productUrl = page.url();
  const stockBefore = await page.getByTestId("stock").textContent();
  await page.getByRole("button", { name: "Add to cart" }).click();
  await expect(page.getByText("Added to cart.")).toBeVisible();

  await page.getByRole("link", { name: "Cart" }).click();
  await page.getByRole("link", { name: "Checkout" }).click();
  await fillNewAddress(page);
  await page.getByLabel("Test card").selectOption({ label: "Declined" });
  await page.getByRole("button", { name: "Place order" }).click();

  await expect(page.getByTestId("order-status")).toHaveText("Failed", { timeout: 30_000 });
  await expect(page.getByTestId("failure-reason")).toContainText("declined");

  await page.goto(productUrl);
  await expect(page.getByTestId("stock")).toHaveText(stockBefore!);
});

test("suggestions are keyboard-usable; an insufficient-funds card fails in plain words", async ({ page }) => {
  await signUp(page);
  await expect(page.getByRole("link", { name: "Account" })).toBeVisible();
  await expect(page.getByRole("heading", { level: 1, name: "Shop all products" })).toBeFocused();
  const search = page.getByRole("combobox", { name: "Search products" });
  await search.fill("hedph");
  const first = page.getByRole("listbox", { name: "Suggestions" }).getByRole("option").first();
  await expect(first).toBeVisible();
  const suggestion = (await first.textContent())!.trim();
  await search.press("ArrowDown");
  await expect(first).toHaveAttribute("aria-selected", "true");
  await search.press("Enter");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(`Results for “${suggestion}”`);

  await page.getByRole("list", { name: "Search results" }).getByRole("link").first().click();
  await page.getByRole("button", { name: "Add to cart" }).click();
  await expect(page.getByText("Added to cart.")).toBeVisible();
  await page.goto("/checkout");
  await fillNewAddress(page);
  await page.getByLabel("Test card").selectOption({ label: "Insufficient funds" });
  await page.getByRole("button", { name: "Place order" }).click();
  await expect(page.getByTestId("order-status")).toHaveText("Failed", { timeout: 30_000 });
  await expect(page.getByTestId("failure-reason")).toHaveText(
    "The payment was declined: the card has insufficient funds.",
  );
});

test("infinite scroll loads the second page of the catalog", async ({ page }) => {
  await page.goto("/");
  const cards = page.getByRole("list", { name: "Products" }).getByRole("listitem");
  await expect(cards).toHaveCount(24);
  await page.getByRole("button", { name: "Load more" }).scrollIntoViewIfNeeded();
  await expect(cards).toHaveCount(48);
});

test("the guest cart survives a reload; a refused quantity rolls back with a message", async ({ page }) => {
  const name = await openProduct(page, "/?sort=price_asc", 2);
  const productId = page.url().split("/products/")[1];
  await page.getByRole("button", { name: "Add to cart" }).click();
  await expect(page.getByText("Added to cart.")).toBeVisible();

  await page.goto("/cart");
  await expect(page.getByRole("rowheader", { name })).toBeVisible();
  await page.reload();
  await expect(page.getByRole("rowheader", { name })).toBeVisible();

  // The API's limit is 99 a line: going above it is refused and undone.
  const r = await page.request.patch(`/api/v1/cart/items/${productId}`, { data: { quantity: 99 } });
  expect(r.status()).toBe(200);
  await page.reload();
  const qty = page.getByLabel(`Quantity of ${name}`, { exact: true });
  await expect(qty).toHaveText("99");
  await page.getByRole("button", { name: `Increase quantity of ${name}` }).click();
  await expect(page.getByRole("main").getByRole("alert")).toContainText(`Could not change the quantity of ${name}`);
  await expect(qty).toHaveText("99");
});

test("a product page is server-rendered with JSON-LD and Open Graph; unknown products are 404", async ({ page }) => {
  const name = await openProduct(page, "/", 0);
  const res = await page.request.get(page.url());
  const html = await res.text();
  expect(html).toContain(`<h1>${name.replaceAll("&", "&amp;")}</h1>`);
  expect(html).toContain('"@type":"Product"');
  expect(html).toMatch(/<meta property="og:title" content="[^"]+"/);

  // Regenerated at most every 30 s, and a CDN may keep it as long (next.config.ts expireTime).
  expect(res.headers()["cache-control"]).toBe("s-maxage=30, stale-while-revalidate=30");

  const missing = await page.goto("/products/prd_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C");
  expect(missing?.status()).toBe(404);
  await expect(page.getByRole("heading", { level: 1, name: "Page not found" })).toBeVisible();
  const malformed = await page.request.get("/products/not-a-product-id");
  expect(malformed.status()).toBe(404);

  // The shopper's own pages are never cached.
  const cart = await page.request.get("/cart");
  expect(cart.headers()["cache-control"]).toContain("no-store");
});

test("sign-in offers Google only when the API has it configured (the local API has not)", async ({ page }) => {
  await page.goto("/signin");
  await expect(page.getByRole("heading", { level: 1, name: "Sign in" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Sign in", exact: true })).toBeVisible();
  await expect(page.getByRole("link", { name: "Sign in with Google" })).toHaveCount(0);
  await page.goto("/signup");
  await expect(page.getByRole("heading", { level: 1, name: "Create your account" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Sign in with Google" })).toHaveCount(0);

  // Starting it anyway comes back to the sign-in page with a message.
  const start = await page.request.get("/api/session/google", { maxRedirects: 0 });
  expect(start.status()).toBe(303);
  expect(start.headers()["location"]).toBe("/signin?google=unavailable");
  await page.goto("/signin?google=unavailable");
  await expect(page.getByRole("main").getByRole("alert")).toHaveText("Google sign-in is not available right now.");
});

test("the API counts sign-ups per shopper address, not per shop server", async ({ page }) => {
  // scripts/test-web gives the shop and the API one proxy secret, so the
  // shopper's address (here: what the shop's server saw in X-Forwarded-For)
  // reaches the API's per-address sign-up limit.
  const octet = () => 1 + Math.floor(Math.random() * 254);
  const shopperA = `198.51.${octet()}.${octet()}`;
  const shopperB = `203.0.${octet()}.${octet()}`;
  const signUpFrom = async (ip: string) => {
    const r = await page.request.post("/api/session/signup", {
      headers: { "x-forwarded-for": ip },
      data: { name: "Shopper", email: `limit-${unique()}@example.com`, password: "a long passphrase for tests" },
    });
    expect(r.status(), await r.text()).toBe(200);
    return { limit: Number(r.headers()["ratelimit-limit"]), remaining: Number(r.headers()["ratelimit-remaining"]) };
  };
  const a1 = await signUpFrom(shopperA);
  expect(a1.remaining).toBe(a1.limit - 1);
  const a2 = await signUpFrom(shopperA);
  expect(a2.remaining).toBe(a1.limit - 2);
  // Another shopper has a budget of their own.
  const b1 = await signUpFrom(shopperB);
  expect(b1.remaining).toBe(b1.limit - 1);
});

test("a signed-in session survives a reload; cancel an order; write, edit and delete a review; sign out", async ({
  page,
}) => {
  await signUp(page);
  await expect(page.getByRole("link", { name: "Account" })).toBeVisible();
  const name = await openProduct(page, "/?sort=rating", 5);
  const productUrl = page.url();
  await page.getByRole("button", { name: "Add to cart" }).click();
  await expect(page.getByText("Added to cart.")).toBeVisible();
  await page.goto("/checkout");
  await fillNewAddress(page);
  await page.getByLabel("Save this address to my address book").check();
  await page.getByRole("button", { name: "Place order" }).click();
  await expect(page.getByTestId("order-status")).toHaveText("Confirmed", { timeout: 30_000 });

  // The access token lives in memory only: a reload restores it from the httpOnly refresh cookie.
  await page.reload();
  await expect(page.getByRole("link", { name: "Account" })).toBeVisible();
  await expect(page.getByTestId("order-status")).toHaveText("Confirmed");
  expect(await page.evaluate(() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage))).toBe("{}{}");
  expect(await page.evaluate(() => document.cookie)).not.toContain("al_refresh");

  await page.getByRole("button", { name: "Cancel order" }).click();
  await expect(page.getByTestId("order-status")).toHaveText("Cancelled");
  await expect(page.getByRole("list").filter({ hasText: "Pending" })).toContainText("Cancelled");
  await page.getByRole("link", { name: "All your orders" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Your orders" })).toBeVisible();
  await expect(page.getByRole("listitem").filter({ hasText: "Order ord_" }).first()).toContainText("Cancelled");

  await page.goto(productUrl);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(name);
  await page.getByLabel("Rating").selectOption("4");
  await page.getByLabel("Title").fill("Solid");
  await page.getByLabel("Review", { exact: true }).fill("Does the job well.");
  await page.getByRole("button", { name: "Submit review" }).click();
  await expect(page.getByText("Your review will appear once it has been checked.")).toBeVisible();
  await page.getByRole("button", { name: "Edit review" }).click();
  await page.getByLabel("Title").fill("Solid, on reflection");
  await page.getByRole("button", { name: "Save review" }).click();
  await expect(page.getByText("Solid, on reflection")).toBeVisible();
  await page.getByRole("button", { name: "Delete review" }).click();
  await expect(page.getByText("Your review was deleted.")).toBeVisible();

  await page.getByRole("link", { name: "Account" }).click();
  await expect(page.getByRole("region", { name: "Addresses" })).toContainText("1 Main Street, Springfield 62701, US (default)");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();
  await page.reload();
  await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();
});
