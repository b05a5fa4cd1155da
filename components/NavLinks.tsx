'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';

const links = [
  { href: '/', label: 'Overview' },
  { href: '/procedures', label: 'Procedures' },
  { href: '/deployments', label: 'Deployments' },
  { href: '/cleanup', label: 'Cleanup' },
  { href: '/audit', label: 'Audit log' },
];

export function NavLinks() {
  const path = usePathname();
  return (
    <nav aria-label="Main" className="flex gap-1 text-sm">
      {links.map((l) => {
        const active = l.href === '/' ? path === '/' : path.startsWith(l.href) || (l.href === '/procedures' && path.startsWith('/versions'));
        return (
          <Link
            key={l.href}
            href={l.href}
            aria-current={active ? 'page' : undefined}
            className={`rounded px-3 py-1.5 focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-500 ${
              active ? 'bg-slate-900 text-white' : 'text-slate-700 hover:bg-slate-100'
            }`}
          >
            {l.label}
          </Link>
        );
      })}
    </nav>
  );
}
