/**
 * A small client-side router on the History API: the app has a dozen pages,
 * which does not justify another dependency. The server sends index.html for
 * every non-API path, so any address here can be loaded directly.
 */
import { type AnchorHTMLAttributes, type MouseEvent, useEffect, useSyncExternalStore } from 'react';

const listeners = new Set<() => void>();

function subscribe(listener: () => void) {
  listeners.add(listener);
  window.addEventListener('popstate', listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('popstate', listener);
  };
}

const snapshot = () => window.location.pathname + window.location.search;

/** Goes to an address inside the app (replace: without a new history entry). */
export function navigate(to: string, options: { replace?: boolean } = {}) {
  if (to === snapshot()) return;
  if (options.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  for (const listener of listeners) listener();
}

/** The current path and query, re-rendering on every change. */
export function useLocation(): { path: string; search: URLSearchParams } {
  const current = useSyncExternalStore(subscribe, snapshot);
  const [pathPart, searchPart = ''] = current.split('?');
  return { path: pathPart, search: new URLSearchParams(searchPart) };
}

/** Reads and writes one set of query parameters (filters and page numbers live in the address, so Back works). */
export function useQueryParams(): [URLSearchParams, (changes: Record<string, string | number | null>, replace?: boolean) => void] {
  const { path, search } = useLocation();
  const update = (changes: Record<string, string | number | null>, replace = false) => {
    const next = new URLSearchParams(search);
    for (const [key, value] of Object.entries(changes)) {
      if (value === null || value === '') next.delete(key);
      else next.set(key, String(value));
    }
    const text = next.toString();
    navigate(text ? `${path}?${text}` : path, { replace });
  };
  return [search, update];
}

/** A link that moves within the app without reloading it. */
export function Link(props: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const { onClick, href, ...rest } = props;
  const click = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={click} {...rest} />;
}

/** Sets the document title for the page shown. */
export function usePageTitle(title: string) {
  useEffect(() => {
    document.title = `${title} – Schoolgate`;
  }, [title]);
}
