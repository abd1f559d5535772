/** The audit log: every change, newest first, paged backwards by sequence number. */
import { useState } from 'react';
import type { AuditEntry } from '../api.ts';
import { Loading, formatDateTime, useApiGet } from '../components.tsx';
import { usePageTitle } from '../router.tsx';

const LIMIT = 50;

export function AuditPage() {
  usePageTitle('Audit log');
  // Each page starts before the oldest entry of the one before; the stack lets "Newer" go back.
  const [cursors, setCursors] = useState<(number | undefined)[]>([undefined]);
  const before = cursors[cursors.length - 1];
  const { data, error, loading } = useApiGet<{ entries: AuditEntry[] }>(`/api/audit?limit=${LIMIT}${before ? `&before=${before}` : ''}`);
  const entries = data?.entries ?? [];
  const oldest = entries.length ? entries[entries.length - 1].seq : undefined;

  return (
    <>
      <h1 tabIndex={-1}>Audit log</h1>
      <p>Every change made in Schoolgate, newest first. Entries are chained, so they cannot be altered without it showing.</p>
      <Loading loading={loading && !data} error={error}>
        {() => (
          <>
            {entries.length ? (
              <table className="data-table audit-table">
                <thead>
                  <tr>
                    <th scope="col">No.</th>
                    <th scope="col">When</th>
                    <th scope="col">Who</th>
                    <th scope="col">Action</th>
                    <th scope="col">Record</th>
                    <th scope="col">Details</th>
                  </tr>
                </thead>
                <tbody>
                  {entries.map((e) => (
                    <tr key={e.seq}>
                      <th scope="row">{e.seq}</th>
                      <td>{formatDateTime(e.at)}</td>
                      <td>{e.actor}</td>
                      <td>
                        <code>{e.action}</code>
                      </td>
                      <td>{e.targetType ? `${e.targetType}${e.targetId ? ` ${e.targetId.slice(0, 8)}` : ''}` : '—'}</td>
                      <td className="details-cell">{Object.keys(e.details).length ? <code>{JSON.stringify(e.details)}</code> : ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p>No entries{before ? ' older than these' : ''}.</p>
            )}
            <nav className="pager" aria-label="Audit log pages">
              <div className="pager-buttons">
                <button type="button" className="secondary" disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>
                  Newer entries
                </button>
                <button type="button" className="secondary" disabled={entries.length < LIMIT || oldest === undefined} onClick={() => setCursors([...cursors, oldest])}>
                  Older entries
                </button>
                {cursors.length > 1 ? (
                  <button type="button" className="secondary" onClick={() => setCursors([undefined])}>
                    Newest
                  </button>
                ) : null}
              </div>
            </nav>
          </>
        )}
      </Loading>
    </>
  );
}
