import type { Metadata } from 'next';
import Link from 'next/link';
import { NavLinks } from '@/components/NavLinks';
import { SignOutButton } from '@/components/SignOutButton';
import { currentActor } from '@/lib/web/actor';
import { Providers } from './providers';
import './globals.css';

export const metadata: Metadata = { title: { default: 'procver', template: '%s · procver' }, description: 'Versioned PostgreSQL procedures' };

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  const actor = await currentActor().catch(() => null);
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
            {actor ? <NavLinks /> : null}
            {actor ? (
              <div className="ml-auto flex items-center gap-2 text-sm">
                <span className="text-slate-600" data-testid="signed-in-as">
                  {actor.name} <span className="rounded bg-slate-100 px-1.5 py-0.5 text-xs">{actor.role}</span>
                </span>
                <SignOutButton />
              </div>
            ) : null}
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
