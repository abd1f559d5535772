/** One person: their details, groups, parents (with parental responsibility) and children. */
import type { PersonDetail, PersonLink } from '../api.ts';
import { KIND_LABELS, LeaverBadge, Loading, formatDate, personName, useApiGet } from '../components.tsx';
import { Link, usePageTitle } from '../router.tsx';

export function PersonPage({ id }: { id: string }) {
  const { data, error, loading } = useApiGet<PersonDetail>(`/api/people/${encodeURIComponent(id)}`);
  usePageTitle(data ? personName(data.person) : 'Person');
  return (
    <>
      <p className="breadcrumb">
        <Link href="/people">Back to people</Link>
      </p>
      <h1 tabIndex={-1}>
        {data ? (
          <>
            {personName(data.person)} <LeaverBadge person={data.person} />
          </>
        ) : (
          'Person'
        )}
      </h1>
      <Loading loading={loading} error={error}>
        {() => {
          if (!data) return null;
          const p = data.person;
          return (
            <>
              <dl className="details">
                <dt>Kind</dt>
                <dd>{KIND_LABELS[p.kind] ?? p.kind}</dd>
                <dt>MIS id</dt>
                <dd>{p.misId ?? '—'}</dd>
                <dt>Email</dt>
                <dd>{p.email ?? '—'}</dd>
                <dt>Date of birth</dt>
                <dd>{formatDate(p.dateOfBirth)}</dd>
                {p.kind === 'pupil' ? (
                  <>
                    <dt>Year group</dt>
                    <dd>{p.yearGroup ?? '—'}</dd>
                    <dt>Registration group</dt>
                    <dd>{p.registrationGroup ?? '—'}</dd>
                  </>
                ) : null}
                <dt>Start date</dt>
                <dd>{formatDate(p.startDate)}</dd>
                <dt>Leave date</dt>
                <dd>{p.leaveDate ? `${formatDate(p.leaveDate)}${p.left ? ' (has left)' : ' (due to leave)'}` : '—'}</dd>
              </dl>
              <section aria-labelledby="groups-heading">
                <h2 id="groups-heading">Groups</h2>
                {data.groups.length ? (
                  <ul>
                    {data.groups.map((g) => (
                      <li key={g.id}>
                        <Link href={`/groups/${g.id}`}>{g.name}</Link> <span className="muted">({KIND_LABELS[g.kind] ?? g.kind})</span>
                      </li>
                    ))}
                  </ul>
                ) : (
                  <p>Not in any group.</p>
                )}
              </section>
              {data.parents.length || p.kind === 'pupil' ? <Links heading="Parents and carers" id="parents" links={data.parents} empty="No parents or carers recorded." /> : null}
              {data.children.length ? <Links heading="Children" id="children" links={data.children} empty="" /> : null}
            </>
          );
        }}
      </Loading>
    </>
  );
}

function Links({ heading, id, links, empty }: { heading: string; id: string; links: PersonLink[]; empty: string }) {
  return (
    <section aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>{heading}</h2>
      {links.length ? (
        <table className="data-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Relationship</th>
              <th scope="col">Parental responsibility</th>
            </tr>
          </thead>
          <tbody>
            {links.map((l) => (
              <tr key={l.person.id}>
                <th scope="row">
                  <Link href={`/people/${l.person.id}`}>{personName(l.person)}</Link> <LeaverBadge person={l.person} />
                </th>
                <td>{l.relationship}</td>
                <td>{l.parentalResponsibility ? 'Yes' : 'No'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>{empty}</p>
      )}
    </section>
  );
}
