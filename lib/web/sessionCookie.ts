/** The dashboard's session cookie (its own module: the request proxy reads it without the database). */
export const SESSION_COOKIE = 'procver_session';
