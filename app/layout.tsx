import type { Metadata } from 'next';
import './globals.css';

export const metadata: Metadata = { title: 'procver', description: 'Versioned PostgreSQL procedures' };

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-screen bg-slate-50 text-slate-900 antialiased">
        <header className="border-b border-slate-200 bg-white">
          <div className="mx-auto flex max-w-6xl items-center gap-3 px-6 py-3">
            <span className="font-semibold tracking-tight">procver</span>
            <span className="text-sm text-slate-500">versioned PostgreSQL procedures</span>
          </div>
        </header>
        <main className="mx-auto max-w-6xl px-6 py-8">{children}</main>
      </body>
    </html>
  );
}
