import type { Address } from "@/lib/types";

/** The fields of an address; names match the API's address body. */
export function AddressFields({ initial }: { initial?: Partial<Address> }) {
  return (
    <div className="address-fields">
      <label>
        Address line 1
        <input name="line1" autoComplete="address-line1" required defaultValue={initial?.line1} />
      </label>
      <label>
        Address line 2 (optional)
        <input name="line2" autoComplete="address-line2" defaultValue={initial?.line2 ?? ""} />
      </label>
      <label>
        City
        <input name="city" autoComplete="address-level2" required defaultValue={initial?.city} />
      </label>
      <label>
        Region
        <input name="region" autoComplete="address-level1" defaultValue={initial?.region ?? ""} />
      </label>
      <label>
        Postal code
        <input name="postalCode" autoComplete="postal-code" required defaultValue={initial?.postalCode} />
      </label>
      <label>
        Country
        <input
          name="country"
          autoComplete="country"
          required
          pattern="[A-Za-z]{2}"
          title="Two-letter country code, e.g. US"
          maxLength={2}
          defaultValue={initial?.country ?? "US"}
        />
      </label>
    </div>
  );
}

export function addressFromForm(f: FormData) {
  const get = (k: string) => String(f.get(k) ?? "").trim();
  const out: Record<string, string> = {
    line1: get("line1"),
    city: get("city"),
    postalCode: get("postalCode"),
    country: get("country").toUpperCase(),
  };
  if (get("line2")) out.line2 = get("line2");
  if (get("region")) out.region = get("region");
  if (get("label")) out.label = get("label");
  return out;
}
