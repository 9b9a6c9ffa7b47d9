import type { NextResponse } from "next/server";
import { CART_COOKIE, REFRESH_COOKIE, SIGNED_IN_HINT_COOKIE } from "./config";

// `Secure` only when served over https (production behind CloudFront);
// locally the shop is plain http on 127.0.0.1.
const secure = () => process.env.SHOP_SECURE_COOKIES === "1";

export function setCartCookie(res: NextResponse, token: string) {
  res.cookies.set(CART_COOKIE, token, {
    httpOnly: true,
    sameSite: "lax",
    secure: secure(),
    path: "/",
    maxAge: 30 * 24 * 3600, // the API expires guest carts 30 days after their last change
  });
}

export function clearCartCookie(res: NextResponse) {
  res.cookies.set(CART_COOKIE, "", { path: "/", maxAge: 0 });
}

export function setSessionCookies(res: NextResponse, refreshToken: string) {
  res.cookies.set(REFRESH_COOKIE, refreshToken, {
    httpOnly: true,
    sameSite: "strict",
    secure: secure(),
    path: "/api/session",
    maxAge: 30 * 24 * 3600,
  });
  res.cookies.set(SIGNED_IN_HINT_COOKIE, "1", {
    sameSite: "lax",
    secure: secure(),
    path: "/",
    maxAge: 30 * 24 * 3600,
  });
}

export function clearSessionCookies(res: NextResponse) {
  res.cookies.set(REFRESH_COOKIE, "", { path: "/api/session", maxAge: 0 });
  res.cookies.set(SIGNED_IN_HINT_COOKIE, "", { path: "/", maxAge: 0 });
}
