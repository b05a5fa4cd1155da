import type { PushOptions } from '../../lib/push';

/** Push options for tests that need no grants. */
export const plainPush: PushOptions = { actor: 'test', grants: { roles: [], publicExecute: true }, sourceLabel: 'sql/' };

/** A trigger function (its version `v` sets n := v) and the trigger on app.items that calls it. */
export const touchTrigger = (v: number) => ({
  'touch.sql': `
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.n := ${v}; RETURN NEW; END $$;
CREATE TRIGGER items_touch BEFORE INSERT ON app.items FOR EACH ROW EXECUTE FUNCTION app.touch();
`,
});

/** touch.sql without its trigger: the same version of app.touch, no binding. */
export const functionOnly = (v: number) => ({ 'touch.sql': touchTrigger(v)['touch.sql'].split('\n').slice(0, 2).join('\n') });

/** What push reports for bindings when it changed none and none left the sources. */
export const bindingsUnchanged = { created: [], moved: [], updated: [], repaired: [], forgotten: [], notInSources: [] };
