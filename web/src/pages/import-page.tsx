/**
 * Import from the MIS: choose a CSV export and a preset, preview what would
 * change (every bad row listed with its line), pick which proposed leavers to
 * mark, then apply. Nothing is stored until Apply, and Apply stays disabled
 * while any row is bad.
 */
import { type FormEvent, useRef, useState } from 'react';
import { api, type ImportPreset, type ImportPreview, type ImportResult } from '../api.ts';
import { CheckboxField, FormError, KIND_LABELS, Loading, SelectField, useApiGet } from '../components.tsx';
import { usePageTitle } from '../router.tsx';

/** A file's bytes as base64, in chunks so large exports do not overflow the call stack. */
async function toBase64(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

export function ImportPage() {
  usePageTitle('Import from your MIS');
  const presets = useApiGet<{ presets: ImportPreset[] }>('/api/people/import/presets');
  const [file, setFile] = useState<File | null>(null);
  const [preset, setPreset] = useState('');
  const [fullExport, setFullExport] = useState(false);
  const [preview, setPreview] = useState<{ result: ImportPreview; fileBase64: string; fileName: string } | null>(null);
  const [leavers, setLeavers] = useState<Set<string>>(new Set());
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<'' | 'preview' | 'apply'>('');
  const [applied, setApplied] = useState<ImportResult | null>(null);
  const resultRef = useRef<HTMLHeadingElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  const chosenPreset = preset || presets.data?.presets[0]?.id || '';

  const runPreview = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setApplied(null);
    setPreview(null);
    if (!file) {
      setError(new Error('Choose a CSV file to import.'));
      return;
    }
    setBusy('preview');
    try {
      const fileBase64 = await toBase64(file);
      const result = await api<ImportPreview>('POST', '/api/people/import/preview', { fileName: file.name, fileBase64, preset: chosenPreset, fullExport });
      setPreview({ result, fileBase64, fileName: file.name });
      setLeavers(new Set());
      requestAnimationFrame(() => resultRef.current?.focus());
    } catch (e) {
      setError(e);
    } finally {
      setBusy('');
    }
  };

  const apply = async () => {
    if (!preview) return;
    setError(null);
    setBusy('apply');
    try {
      const result = await api<ImportResult>('POST', '/api/people/import/apply', { runId: preview.result.runId, fileBase64: preview.fileBase64, confirmLeavers: [...leavers] });
      setApplied(result);
      setPreview(null);
      setFile(null);
      if (fileInput.current) fileInput.current.value = '';
      requestAnimationFrame(() => resultRef.current?.focus());
    } catch (e) {
      setError(e);
    } finally {
      setBusy('');
    }
  };

  const toggleLeaver = (id: string, on: boolean) => {
    const next = new Set(leavers);
    if (on) next.add(id);
    else next.delete(id);
    setLeavers(next);
  };

  const result = preview?.result;
  const hasErrors = !!result && (!result.ok || result.errors.length > 0);

  return (
    <>
      <h1 tabIndex={-1}>Import from your MIS</h1>
      <p>Export pupils, staff and parents from your management information system (SIMS, Arbor, Bromcom or another) as a CSV file, and preview the changes before anything is saved.</p>
      <Loading loading={presets.loading} error={presets.error}>
        {() => (
          <form onSubmit={runPreview} noValidate className="import-form">
            <div className="field">
              <label htmlFor="import-file">CSV file</label>
              <p className="hint" id="import-file-hint">
                A comma-separated export with a header row.
              </p>
              <input
                ref={fileInput}
                id="import-file"
                name="file"
                type="file"
                accept=".csv,text/csv"
                aria-describedby="import-file-hint"
                onChange={(e) => {
                  setFile(e.target.files?.[0] ?? null);
                  setPreview(null);
                  setApplied(null);
                }}
              />
            </div>
            <SelectField label="Export format (preset)" name="preset" value={chosenPreset} onChange={(e) => setPreset(e.target.value)} error={error}>
              {presets.data?.presets.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </SelectField>
            <CheckboxField
              name="fullExport"
              label="This is a full export (everyone on roll): people missing from it are proposed as leavers"
              checked={fullExport}
              onChange={(e) => {
                setFullExport(e.target.checked);
                setPreview(null);
              }}
            />
            <button type="submit" disabled={busy !== ''}>
              {busy === 'preview' ? 'Checking the file…' : 'Preview import'}
            </button>
          </form>
        )}
      </Loading>
      <FormError error={error} fields={['preset']} />

      <div aria-live="polite">
        {applied ? (
          <section aria-labelledby="applied-heading" className="result-box success">
            <h2 id="applied-heading" tabIndex={-1} ref={resultRef}>
              Import applied
            </h2>
            <p>
              {applied.created} created, {applied.updated} updated, {applied.unchanged} unchanged, {applied.leaversMarked} marked as leavers.
            </p>
          </section>
        ) : null}
      </div>

      {result && preview ? (
        <section aria-labelledby="preview-heading" className="result-box">
          <h2 id="preview-heading" tabIndex={-1} ref={resultRef}>
            Preview of {preview.fileName}
          </h2>
          {hasErrors ? (
            <div className="error-summary" role="alert">
              <p>
                <strong>
                  {result.errors.length} {result.errors.length === 1 ? 'problem' : 'problems'} found. Nothing has been imported.
                </strong>{' '}
                Correct the file, choose it again and preview it again.
              </p>
            </div>
          ) : (
            <p role="status">The file is valid. Nothing is saved until you apply it.</p>
          )}
          <dl className="counts">
            <div>
              <dt>Rows</dt>
              <dd>{result.rows}</dd>
            </div>
            <div>
              <dt>To create</dt>
              <dd>{result.create}</dd>
            </div>
            <div>
              <dt>To update</dt>
              <dd>{result.update}</dd>
            </div>
            <div>
              <dt>Unchanged</dt>
              <dd>{result.unchanged}</dd>
            </div>
          </dl>
          {result.encoding ? <p className="muted">Read as {result.encoding}.</p> : null}
          {result.errors.length ? (
            <table className="data-table errors-table">
              <caption>Problems in the file</caption>
              <thead>
                <tr>
                  <th scope="col">Line</th>
                  <th scope="col">Field</th>
                  <th scope="col">Problem</th>
                </tr>
              </thead>
              <tbody>
                {result.errors.map((e, i) => (
                  <tr key={`${e.line}-${e.field}-${i}`}>
                    <th scope="row">{e.line}</th>
                    <td>{e.field}</td>
                    <td>{e.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
          {result.leavers.length ? (
            <fieldset className="leavers">
              <legend>Proposed leavers: not in this full export. Tick the people who have left.</legend>
              <p>
                <button type="button" className="secondary small" onClick={() => setLeavers(new Set(result.leavers.map((l) => l.id)))}>
                  Tick all
                </button>{' '}
                <button type="button" className="secondary small" onClick={() => setLeavers(new Set())}>
                  Untick all
                </button>
              </p>
              {result.leavers.map((l) => (
                <CheckboxField
                  key={l.id}
                  name={`leaver-${l.id}`}
                  label={`${l.name} (${KIND_LABELS[l.kind] ?? l.kind})`}
                  checked={leavers.has(l.id)}
                  onChange={(e) => toggleLeaver(l.id, e.target.checked)}
                />
              ))}
            </fieldset>
          ) : null}
          <p className="button-row">
            <button type="button" onClick={apply} disabled={hasErrors || busy !== ''} aria-describedby={hasErrors ? 'apply-why' : undefined}>
              {busy === 'apply' ? 'Applying…' : 'Apply import'}
            </button>
            {hasErrors ? (
              <span id="apply-why" className="muted">
                {' '}
                Apply is not available while the file has problems.
              </span>
            ) : null}
          </p>
        </section>
      ) : null}
    </>
  );
}
