/** The home page: who you are, your roles and where you can go. */
import type { Me } from '../api.ts';
import { ROLE_LABELS } from '../components.tsx';
import { Link, usePageTitle } from '../router.tsx';

export function HomePage({ me }: { me: Me }) {
  usePageTitle('Home');
  const { account, school } = me;
  return (
    <>
      <h1 tabIndex={-1}>Welcome, {account.name}</h1>
      <p>
        You are signed in to <strong>{school.name}</strong> as <code>{account.login}</code>.
      </p>
      <section aria-labelledby="roles-heading">
        <h2 id="roles-heading">Your roles</h2>
        {account.roles.length ? (
          <ul className="role-list">
            {account.roles.map((r) => (
              <li key={r}>{ROLE_LABELS[r] ?? r}</li>
            ))}
          </ul>
        ) : (
          <p>You have no roles yet, so there is nothing here for you to manage.</p>
        )}
        <p>
          Two-factor sign-in: <strong>{account.mfa.enabled ? 'on' : 'off'}</strong>
          {account.mfa.required ? ' (required for your roles)' : ''}.
        </p>
      </section>
      {account.personId && account.permissions.includes('people.read') ? (
        <p>
          <Link href={`/people/${account.personId}`}>See your own record</Link>
        </p>
      ) : null}
    </>
  );
}
