/** Polymorphic pseudo-types: a parameter of one takes its type from the call (parse_coerce.c). */
const polymorphic = new Set([
  'anyelement',
  'anyarray',
  'anynonarray',
  'anyenum',
  'anyrange',
  'anymultirange',
  'anycompatible',
  'anycompatiblearray',
  'anycompatiblenonarray',
  'anycompatiblerange',
  'anycompatiblemultirange',
  '"any"',
]);

/** Every pseudo-type: the polymorphic ones, `record`, `trigger`, handlers… (no value has one as its own type). */
const pseudo = new Set([
  ...polymorphic,
  'record',
  'trigger',
  'event_trigger',
  'internal',
  'cstring',
  'language_handler',
  'fdw_handler',
  'table_am_handler',
  'index_am_handler',
  'tsm_handler',
]);

export function isPolymorphic(type: string): boolean {
  return polymorphic.has(type);
}

/** Pseudo-types: polymorphic arguments, `record`, `trigger`… the client cannot type these. */
export function isPseudo(type: string): boolean {
  return pseudo.has(type);
}
