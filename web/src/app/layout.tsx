import type { Metadata } from "next";
import { Header } from "@/components/Header";
import { RouteFocus } from "@/components/RouteFocus";
import "./globals.css";
import { Providers } from "./providers";

// Each page says how fresh it must be: product pages are regenerated every
// 30 s (ISR), the listing reads the catalog through the data cache, and the
// shopper's own pages (cart, checkout, account, orders) are rendered per
// request.
export const metadata: Metadata = {
  title: { default: "Amazon Lite", template: "%s · Amazon Lite" },
  description: "The Amazon Lite shop.",
};

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <Providers>
          <Header />
          <RouteFocus />
          <main id="main" tabIndex={-1}>
            {children}
          </main>
          <footer className="site-footer">
            <p>Amazon Lite demo shop. Payments use sandbox test cards only.</p>
          </footer>
        </Providers>
      </body>
    </html>
  );
}
