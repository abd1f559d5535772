/** Groups: the list by kind, and one group with its members (paged) and sub-groups. */
import type { Group, GroupDetail } from '../api.ts';
import { KIND_LABELS, LeaverBadge, Loading, Pager, formatDate, personName, useApiGet } from '../components.tsx';
import { Link, useQueryParams, usePageTitle } from '../router.tsx';
import { GROUP_KINDS } from '../../../src/people/people.tables.ts';

export function GroupsPage() {
  usePageTitle('Groups');
  const [params, setParams] = useQueryParams();
  const kind = params.get('kind') ?? '';
  const { data, error, loading } = useApiGet<{ items: Group[] }>(`/api/groups${kind ? `?kind=${encodeURIComponent(kind)}` : ''}`);
  const kinds = kind ? [kind] : [...GROUP_KINDS];
  return (
    <>
      <h1 tabIndex={-1}>Groups</h1>
      <div className="filters">
        <div className="field">
          <label htmlFor="group-kind">Show</label>
          <select id="group-kind" value={kind} onChange={(e) => setParams({ kind: e.target.value })}>
            <option value="">All kinds of group</option>
            {GROUP_KINDS.map((k) => (
              <option key={k} value={k}>
                {KIND_LABELS[k] ?? k}
              </option>
            ))}
          </select>
        </div>
      </div>
      <Loading loading={loading && !data} error={error}>
        {() => {
          const items = data?.items ?? [];
          if (items.length === 0) return <p>There are no groups yet.</p>;
          return kinds.map((k) => {
            const ofKind = items.filter((g) => g.kind === k);
            if (ofKind.length === 0) return null;
            return (
              <section key={k} aria-labelledby={`kind-${k}`}>
                <h2 id={`kind-${k}`}>{KIND_LABELS[k] ?? k}</h2>
                <table className="data-table">
                  <thead>
                    <tr>
                      <th scope="col">Group</th>
                      <th scope="col">Members</th>
                      <th scope="col">Description</th>
                    </tr>
                  </thead>
                  <tbody>
                    {ofKind.map((g) => (
                      <tr key={g.id}>
                        <th scope="row">
                          <Link href={`/groups/${g.id}`}>{g.name}</Link>
                        </th>
                        <td>{g.memberCount}</td>
                        <td>{g.description ?? ''}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </section>
            );
          });
        }}
      </Loading>
    </>
  );
}

const MEMBERS_PAGE_SIZE = 50;

export function GroupPage({ id }: { id: string }) {
  const [params, setParams] = useQueryParams();
  const page = Math.max(1, Number(params.get('page') ?? '1') || 1);
  const { data, error, loading } = useApiGet<GroupDetail>(`/api/groups/${encodeURIComponent(id)}?page=${page}&pageSize=${MEMBERS_PAGE_SIZE}`);
  usePageTitle(data ? data.group.name : 'Group');
  return (
    <>
      <p className="breadcrumb">
        <Link href="/groups">Back to groups</Link>
      </p>
      <h1 tabIndex={-1}>{data ? data.group.name : 'Group'}</h1>
      <Loading loading={loading && !data} error={error}>
        {() => {
          if (!data) return null;
          const { group, members, children } = data;
          return (
            <>
              <p>
                {KIND_LABELS[group.kind] ?? group.kind}
                {group.description ? ` – ${group.description}` : ''}
              </p>
              {children.length ? (
                <section aria-labelledby="subgroups-heading">
                  <h2 id="subgroups-heading">Groups within {group.name}</h2>
                  <ul>
                    {children.map((c) => (
                      <li key={c.id}>
                        <Link href={`/groups/${c.id}`}>{c.name}</Link>
                      </li>
                    ))}
                  </ul>
                </section>
              ) : null}
              <section aria-labelledby="members-heading">
                <h2 id="members-heading">Members</h2>
                {members.items.length ? (
                  <table className="data-table">
                    <thead>
                      <tr>
                        <th scope="col">Name</th>
                        <th scope="col">Kind</th>
                        <th scope="col">Registration group</th>
                        <th scope="col">Date of birth</th>
                      </tr>
                    </thead>
                    <tbody>
                      {members.items.map((p) => (
                        <tr key={p.id}>
                          <th scope="row">
                            <Link href={`/people/${p.id}`}>{personName(p)}</Link> <LeaverBadge person={p} />
                          </th>
                          <td>{KIND_LABELS[p.kind] ?? p.kind}</td>
                          <td>{p.registrationGroup ?? '—'}</td>
                          <td>{formatDate(p.dateOfBirth)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                ) : (
                  <p>This group has no members.</p>
                )}
                <Pager label="Member pages" page={members.page ?? page} pageSize={members.pageSize ?? MEMBERS_PAGE_SIZE} total={members.total} onPage={(p) => setParams({ page: p })} />
              </section>
            </>
          );
        }}
      </Loading>
    </>
  );
}
