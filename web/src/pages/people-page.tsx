/** People: search (as you type), filter by kind, and page through the school's people. */
import { type FormEvent, useEffect, useState } from 'react';
import { type Page, type Person, query } from '../api.ts';
import { KIND_LABELS, LeaverBadge, Loading, Pager, SelectField, TextField, formatDate, personName, useApiGet, useDebounced } from '../components.tsx';
import { Link, useQueryParams, usePageTitle } from '../router.tsx';
import { PERSON_KINDS } from '../../../src/people/people.tables.ts';

const PAGE_SIZE = 50;

export function PeoplePage() {
  usePageTitle('People');
  const [params, setParams] = useQueryParams();
  const q = params.get('q') ?? '';
  const kind = params.get('kind') ?? '';
  const page = Math.max(1, Number(params.get('page') ?? '1') || 1);

  const [typed, setTyped] = useState(q);
  const settled = useDebounced(typed, 300);
  // The address can change under the box (Back, or the People link): follow it.
  useEffect(() => {
    if (q !== typed.trim() && q !== settled.trim()) setTyped(q);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [q]);
  useEffect(() => {
    if (settled.trim() !== q) setParams({ q: settled.trim(), page: null }, true);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [settled]);

  const { data, error, loading } = useApiGet<Page<Person>>(`/api/people${query({ q, kind, page, pageSize: PAGE_SIZE })}`);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setParams({ q: typed.trim(), page: null });
  };

  return (
    <>
      <h1 tabIndex={-1}>People</h1>
      <form role="search" aria-label="People" className="filters" onSubmit={submit}>
        <TextField label="Search by name, email or MIS id" name="q" type="search" value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" />
        <SelectField label="Kind" name="kind" value={kind} onChange={(e) => setParams({ kind: e.target.value, page: null })}>
          <option value="">Everyone</option>
          {PERSON_KINDS.map((k) => (
            <option key={k} value={k}>
              {KIND_LABELS[k] ?? k}
            </option>
          ))}
        </SelectField>
        <button type="submit">Search</button>
      </form>
      <Loading loading={loading && !data} error={error}>
        {() =>
          data ? (
            <>
              <table className="data-table">
                <caption className="visually-hidden">People matching the search, sorted by family name</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Kind</th>
                    <th scope="col">Year</th>
                    <th scope="col">Registration group</th>
                    <th scope="col">Email</th>
                    <th scope="col">Date of birth</th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((p) => (
                    <tr key={p.id}>
                      <th scope="row">
                        <Link href={`/people/${p.id}`}>{personName(p)}</Link> <LeaverBadge person={p} />
                      </th>
                      <td>{KIND_LABELS[p.kind] ?? p.kind}</td>
                      <td>{p.yearGroup ?? '—'}</td>
                      <td>{p.registrationGroup ?? '—'}</td>
                      <td>{p.email ?? '—'}</td>
                      <td>{formatDate(p.dateOfBirth)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {data.items.length === 0 ? <p>No one matches {q ? <>“{q}”</> : 'these filters'}.</p> : null}
              <Pager label="People pages" page={data.page ?? page} pageSize={data.pageSize ?? PAGE_SIZE} total={data.total} onPage={(p) => setParams({ page: p })} />
            </>
          ) : null
        }
      </Loading>
    </>
  );
}
