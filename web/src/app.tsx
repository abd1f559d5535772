/**
 * The app's top level: finds out who is signed in (`/api/auth/me`), shows the
 * sign-in journey until the session is complete, then the shell with the
 * pages the account's permissions allow.
 */
import { type ReactNode, useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, api, type Me, onSessionEnded, setCsrfToken } from './api.ts';
import { FormError } from './components.tsx';
import { FilterStatusBanner } from './filter-status.tsx';
import { FilterSection } from './filter/filter-section.tsx';
import { AccountsPage } from './pages/accounts-page.tsx';
import { AuditPage } from './pages/audit-page.tsx';
import { ChecksPage } from './pages/checks-page.tsx';
import { GroupPage, GroupsPage } from './pages/groups-page.tsx';
import { HomePage } from './pages/home-page.tsx';
import { ImportPage } from './pages/import-page.tsx';
import { ListsPage } from './pages/lists-page.tsx';
import { NetworksPage } from './pages/networks-page.tsx';
import { OverblockingPage } from './pages/overblocking-page.tsx';
import { PeoplePage } from './pages/people-page.tsx';
import { PersonPage } from './pages/person-page.tsx';
import { SettingsPage } from './pages/settings-page.tsx';
import { UnblockRequestsPage } from './pages/unblock-requests-page.tsx';
import { Link, navigate, useLocation, usePageTitle } from './router.tsx';
import { pendingStep, SignIn } from './sign-in/sign-in.tsx';

type State =
  | { status: 'loading' }
  | { status: 'error'; error: unknown }
  | { status: 'signed-out' }
  | { status: 'signing-in'; me: Me }
  | { status: 'signed-in'; me: Me };

export function App() {
  const [state, setState] = useState<State>({ status: 'loading' });

  const load = useCallback(async () => {
    try {
      const me = await api<Me>('GET', '/api/auth/me');
      setCsrfToken(me.csrfToken);
      setState(pendingStep(me) === 'done' ? { status: 'signed-in', me } : { status: 'signing-in', me });
    } catch (error) {
      if (error instanceof ApiError && (error.code === 'unauthenticated' || error.code === 'mfa_required')) {
        setCsrfToken('');
        setState({ status: 'signed-out' });
      } else {
        setState({ status: 'error', error });
      }
    }
  }, []);

  useEffect(() => {
    void load();
    onSessionEnded(() => setState({ status: 'signed-out' }));
    return () => onSessionEnded(null);
  }, [load]);

  const { path } = useLocation();
  useEffect(() => {
    if (state.status === 'signed-in' && path === '/sign-in') navigate('/', { replace: true });
  }, [state.status, path]);

  switch (state.status) {
    case 'loading':
      return (
        <main id="main" className="centred">
          <p role="status">Loading Schoolgate…</p>
        </main>
      );
    case 'error':
      return (
        <main id="main" className="centred">
          <h1>Schoolgate is not available</h1>
          <FormError error={state.error} />
          <button type="button" onClick={() => void load()}>
            Try again
          </button>
        </main>
      );
    case 'signed-out':
      return <SignIn key="fresh" start="credentials" onDone={() => void load()} />;
    case 'signing-in':
      return <SignIn key="resume" start={pendingStep(state.me)} onDone={() => void load()} />;
    case 'signed-in':
      return (
        <Shell
          me={state.me}
          onSignedOut={() => {
            setCsrfToken('');
            setState({ status: 'signed-out' });
            navigate('/sign-in');
          }}
        />
      );
  }
}

/** A nav entry and the permission it needs. */
const NAV: { href: string; label: string; permission: string }[] = [
  { href: '/people', label: 'People', permission: 'people.read' },
  { href: '/groups', label: 'Groups', permission: 'groups.read' },
  { href: '/import', label: 'Import', permission: 'people.import' },
  { href: '/networks', label: 'Networks', permission: 'networks.read' },
  { href: '/filter', label: 'Filtering', permission: 'filter.policy.read' },
  { href: '/lists', label: 'Lists', permission: 'filter.policy.read' },
  { href: '/overblocking', label: 'Over-blocking', permission: 'filter.policy.read' },
  { href: '/unblock-requests', label: 'Unblock requests', permission: 'filter.policy.read' },
  { href: '/accounts', label: 'Users & roles', permission: 'accounts.read' },
  { href: '/checks', label: 'Filter checks', permission: 'filter.policy.read' },
  { href: '/audit', label: 'Audit log', permission: 'audit.read' },
  { href: '/settings', label: 'Settings', permission: 'settings.read' },
];

function Shell({ me, onSignedOut }: { me: Me; onSignedOut: () => void }) {
  const { path } = useLocation();
  const can = (permission: string) => me.account.permissions.includes(permission);
  const first = useRef(true);
  useEffect(() => {
    // After moving to another page, start at its heading (as a page load would).
    if (first.current) {
      first.current = false;
      return;
    }
    document.querySelector<HTMLElement>('main h1')?.focus();
  }, [path]);

  const signOut = async () => {
    try {
      await api('POST', '/api/auth/sign-out');
    } catch {
      // The session may already be gone; either way the person is signed out.
    }
    onSignedOut();
  };

  const segments = path.split('/').filter(Boolean);
  const active = (href: string) => path === href || path.startsWith(`${href}/`);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to main content
      </a>
      <header className="app-header">
        <div className="app-header-inner">
          <p className="brand">
            <Link href="/">Schoolgate</Link> <span className="school-name">{me.school.name}</span>
          </p>
          <div className="who">
            <span>
              Signed in as <strong>{me.account.name}</strong>
            </span>
            <button type="button" className="secondary small" onClick={signOut}>
              Sign out
            </button>
          </div>
        </div>
      </header>
      <nav className="app-nav" aria-label="Main">
        <ul>
          <li>
            <Link href="/" aria-current={path === '/' ? 'page' : undefined}>
              Home
            </Link>
          </li>
          {NAV.filter((n) => can(n.permission)).map((n) => (
            <li key={n.href}>
              <Link href={n.href} aria-current={active(n.href) ? 'page' : undefined}>
                {n.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="app-main">
        {can('filter.policy.read') ? <FilterStatusBanner /> : null}
        <Route segments={segments} me={me} can={can} />
      </main>
    </>
  );
}

function Route({ segments, me, can }: { segments: string[]; me: Me; can: (p: string) => boolean }) {
  const [first, id] = segments;
  const needs = (permission: string, page: ReactNode) => (can(permission) ? page : <NoAccess />);
  switch (first) {
    case undefined:
    case 'sign-in':
      return <HomePage me={me} />;
    case 'people':
      return needs('people.read', id ? <PersonPage id={id} /> : <PeoplePage />);
    case 'groups':
      return needs('groups.read', id ? <GroupPage id={id} /> : <GroupsPage />);
    case 'import':
      return needs('people.import', <ImportPage />);
    case 'networks':
      return needs('networks.read', <NetworksPage canWrite={can('networks.write')} />);
    case 'filter':
      return needs('filter.policy.read', <FilterSection sub={id} canWrite={can('filter.policy.write')} can={can} />);
    case 'lists':
      return needs('filter.policy.read', <ListsPage canWrite={can('filter.policy.write')} />);
    case 'overblocking':
      return needs('filter.policy.read', <OverblockingPage canWrite={can('filter.policy.write')} />);
    case 'accounts':
      return needs('accounts.read', <AccountsPage canWrite={can('accounts.write')} me={me} />);
    case 'checks':
      return needs('filter.policy.read', <ChecksPage canRun={can('filter.checks')} canEditNames={can('filter.policy.write')} />);
    case 'audit':
      return needs('audit.read', <AuditPage />);
    case 'unblock-requests':
      // Everyone signed in: deciders see the inbox, everyone their own requests.
      return <UnblockRequestsPage me={me} />;
    case 'settings':
      return needs('settings.read', <SettingsPage canWrite={can('settings.write')} />);
    default:
      return <NotFound />;
  }
}

function NoAccess() {
  usePageTitle('No access');
  return (
    <>
      <h1 tabIndex={-1}>You do not have access to this page</h1>
      <p>Your roles do not include this part of Schoolgate. If you need it, ask your school’s Schoolgate administrator.</p>
      <p>
        <Link href="/">Go to the home page</Link>
      </p>
    </>
  );
}

function NotFound() {
  usePageTitle('Page not found');
  return (
    <>
      <h1 tabIndex={-1}>Page not found</h1>
      <p>
        There is no page at this address. <Link href="/">Go to the home page</Link>.
      </p>
    </>
  );
}
