/**
 * The banner that tells the people who run the filter when its illegal-content
 * protection is incomplete: red while no licensed feed (IWF, CTIRU) is in
 * service, amber while its updates fail or are late. Nothing when green.
 */
import type { ListsHealthJson } from '../../src/lists/lists.routes.ts';
import { useApiGet } from './components.tsx';

export function FilterStatusBanner() {
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
