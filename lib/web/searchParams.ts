/** A page's query string as Next.js hands it over: a repeated parameter comes as an array. */
export type SearchParams = Record<string, string | string[] | undefined>;

/** The first value of a query parameter, so a repeated one cannot become an array where a string is meant. */
export function firstParam(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export function windowParam(v: string | string[] | undefined): '24h' | '7d' | '30d' {
  return v === '7d' || v === '30d' ? v : '24h';
}
