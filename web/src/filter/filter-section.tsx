/** The Filtering section: picks the page for `/filter/<sub>`; every page shows everything to readers and edit controls only to writers. */
import { FilterCalendarPage } from '../pages/filter-calendar-page.tsx';
import { FilterCategoriesPage } from '../pages/filter-categories-page.tsx';
import { FilterEntriesPage } from '../pages/filter-entries-page.tsx';
import { FilterExemptionsPage } from '../pages/filter-exemptions-page.tsx';
import { FilterSanctionsPage } from '../pages/filter-sanctions-page.tsx';
import { FilterSchedulesPage } from '../pages/filter-schedules-page.tsx';
import { FilterSettingsPage } from '../pages/filter-settings-page.tsx';

export function FilterSection({ sub, canWrite, can }: { sub: string | undefined; canWrite: boolean; can: (permission: string) => boolean }) {
  switch (sub) {
    case undefined:
      return <FilterCategoriesPage canWrite={canWrite} />;
    case 'entries':
      return <FilterEntriesPage canWrite={canWrite} />;
    case 'schedules':
      return <FilterSchedulesPage canWrite={canWrite} />;
    case 'exemptions':
      return <FilterExemptionsPage canWrite={canWrite} canReadPeople={can('people.read')} canReadDevices={can('devices.read')} />;
    case 'sanctions':
      return <FilterSanctionsPage canWrite={canWrite} canReadPeople={can('people.read')} canReadDevices={can('devices.read')} />;
    case 'calendar':
      return <FilterCalendarPage canWrite={canWrite} />;
    case 'settings':
      return <FilterSettingsPage canWrite={canWrite} />;
    default:
      return (
        <>
          <h1 tabIndex={-1}>Page not found</h1>
          <p>There is no Filtering page at this address.</p>
        </>
      );
  }
}
