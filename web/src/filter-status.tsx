/**
 * The banner that tells the people who run the filter when its illegal-content
 * protection is incomplete: red while no licensed feed (IWF, CTIRU) is in
 * service, amber while its updates fail or are late; and open system alerts.
 * Nothing when all is well.
 */
import type { SystemAlertJson } from '../../src/alerts/alerts.routes.ts';
import type { ListsHealthJson } from '../../src/lists/lists.routes.ts';
import { useApiGet } from './components.tsx';
import { Link } from './router.tsx';

export function FilterStatusBanner() {
  return (
    <>
      <IllegalFeedBanner />
      <AlertsBanner />
    </>
  );
}

/** Open system alerts, counted, with a link to the page that lists them. */
function AlertsBanner() {
  const { data } = useApiGet<{ items: SystemAlertJson[] }>('/api/alerts');
  const open = data?.items ?? [];
  if (!open.length) return null;
  const critical = open.filter((a) => a.severity === 'critical').length;
  return (
    <section className={critical ? 'status-banner red' : 'status-banner amber'} aria-labelledby="alerts-banner-heading">
      <h2 id="alerts-banner-heading">
        {open.length} open system alert{open.length === 1 ? '' : 's'}
        {critical ? ` (${critical} critical)` : ''}
      </h2>
      <p>
        {open[0].title}
        {open.length > 1 ? ' and more.' : '.'} <Link href="/lists">See the lists page</Link>.
      </p>
    </section>
  );
}

function IllegalFeedBanner() {
  const { data } = useApiGet<ListsHealthJson>('/api/lists/status');
  const feed = data?.illegalFeed;
  if (!feed || feed.level === 'green') return null;
  return (
    <section className={feed.level === 'red' ? 'status-banner red' : 'status-banner amber'} aria-labelledby="filter-status-heading" data-level={feed.level}>
      <h2 id="filter-status-heading">{feed.level === 'red' ? 'Illegal-content lists are not in service' : 'Illegal-content lists need attention'}</h2>
      <p>{feed.summary}</p>
      {feed.advice ? <p>{feed.advice}</p> : null}
      <p>
        How to configure a licensed feed: <code>{feed.docs}</code>. Check enforcement from any device: look up <code>{feed.testName}</code>, which is always blocked.
      </p>
    </section>
  );
}
