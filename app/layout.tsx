import type { Metadata } from 'next';
import Link from 'next/link';
import { NavLinks } from '@/components/NavLinks';
import { Providers } from './providers';
import './globals.css';

export const metadata: Metadata = { title: { default: 'procver', template: '%s · procver' }, description: 'Versioned PostgreSQL procedures' };

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-screen bg-slate-50 text-slate-900 antialiased">
        <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:rounded focus:bg-white focus:px-3 focus:py-2">
          Skip to content
        </a>
        <header className="border-b border-slate-200 bg-white">
          <div className="mx-auto flex max-w-7xl items-center gap-6 px-6 py-3">
            <Link href="/" className="font-semibold tracking-tight">
              procver
            </Link>
            <NavLinks />
          </div>
        </header>
        <Providers>
          <main id="main" className="mx-auto max-w-7xl px-6 py-8">
            {children}
          </main>
        </Providers>
      </body>
    </html>
  );
}
