const units: [Intl.RelativeTimeFormatUnit, number][] = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
  ['second', 1000],
];

export function relative(date: Date, now = Date.now()): string {
  const diff = date.getTime() - now;
  const fmt = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
  for (const [unit, ms] of units) if (Math.abs(diff) >= ms || unit === 'second') return fmt.format(Math.round(diff / ms), unit);
  return '';
}

/** "3 hours ago", with the exact UTC time on hover and for assistive technology. */
export function RelativeTime({ date }: { date: Date | null }) {
  if (!date) return <span className="text-slate-400">never</span>;
  return (
    <time dateTime={date.toISOString()} title={date.toISOString().replace('T', ' ').slice(0, 19) + ' UTC'}>
      {relative(date)}
    </time>
  );
}
