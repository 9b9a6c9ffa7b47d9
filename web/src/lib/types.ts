// The API's shapes, from the generated OpenAPI types (src/lib/api-types.ts).
import type { components } from "./api-types";

type S = components["schemas"];

export type Money = { amount: number; currency: string };
export type Product = S["ProductView"];
export type ProductPage = S["ProductPage"];
export type Review = S["Review"];
export type ReviewPage = S["ProductReviews"];
export type Cart = S["CartView"];
export type CartLine = S["CartItemView"];
export type SearchPage = S["SearchPage"];
export type SearchItem = S["SearchItem"];
export type Order = S["OrderView"];
export type OrderPage = S["OrderPage"];
export type OrderStatus = S["OrderStatus"];
export type Address = S["AddressView"];
export type AddressList = S["AddressList"];
export type Profile = S["ProfileView"];
export type User = S["UserView"];
