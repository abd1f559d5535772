/**
 * The device check page (`GET /check`): opened on a real pupil device, with
 * no sign-in. The server says what the filter sees the device as by its
 * address (network, group, device) and what it decides for each test name;
 * a small script then proves it from the device's own resolver: it loads
 * `http://<test name>/check/probe/<session>` for each name. A name the
 * filter blocks resolves to the block page's address, so that request
 * reaches Schoolgate with the name as its host and is recorded for the
 * session; the page then asks which arrived. Without the script the server's
 * view still shows. Every value from outside is escaped.
 */
import type { DeviceView } from './checks.service.ts';

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const STYLE = `
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1d2330}
main{max-width:52rem;margin:2rem auto;padding:0 1rem}
.card{background:#fff;border-radius:12px;padding:1.5rem 1.75rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.5rem;margin:.25rem 0 1rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.4rem 1rem;margin:0 0 1rem}
dt{font-weight:600;color:#4a5263}dd{margin:0;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;font-size:.95rem}th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #e1e4ea;vertical-align:top}
.blocked{color:#b3261e;font-weight:600}.open{color:#1b6e3a;font-weight:600}
small,.muted{color:#5c6476}
`;

/** The page for a device; `view` null when the filter is not running here. */
export function deviceCheckPage(view: DeviceView | null, schoolName: string): string {
  const head = `<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>Filter check for this device</title><style>${STYLE}</style></head><body><main><div class="card">`;
  const tail = '</div></main></body></html>';
  if (!view) {
    return `${head}<h1>Filter check for this device</h1><p>The DNS filter is not running in this Schoolgate, so there is nothing to check.</p>${tail}`;
  }
  const seenAs = view.identified
    ? `<dl>
<dt>This device’s address</dt><dd id="address">${escapeHtml(view.address)}</dd>
<dt>Network</dt><dd id="network">${escapeHtml(view.networkName ?? 'none of the school’s networks')}</dd>
<dt>Filtered as</dt><dd id="group">${escapeHtml(view.groupName ?? 'no group: only illegal content is blocked')}</dd>
${view.deviceName ? `<dt>Device</dt><dd>${escapeHtml(view.deviceName)}</dd>` : ''}
</dl>`
    : `<dl><dt>This device’s address</dt><dd id="address">${escapeHtml(view.address)}</dd><dt>Network</dt><dd id="network">not one of the school’s networks</dd>
<dt>Filtered as</dt><dd id="group">${escapeHtml(view.groupName ?? 'no group')} (the school’s default for devices it does not know)</dd></dl>`;
  const rows = view.names
    .map(
      (n, i) => `<tr data-name="${escapeHtml(n.name)}">
<td><code>${escapeHtml(n.name)}</code><br><small>${escapeHtml(n.category === 'bypass' ? 'bypass switch' : n.category.replace(/_/g, ' '))}</small></td>
<td class="${n.blocked ? 'blocked' : 'open'}">${n.blocked ? 'blocked' : 'not blocked'}<br><small>${escapeHtml(n.reason)}</small></td>
<td id="probe-${i}">${n.probeHost ? '<span class="muted">needs JavaScript</span>' : `<small>${escapeHtml(n.probeNote ?? '')}</small>`}</td>
</tr>`,
    )
    .join('\n');
  const data = JSON.stringify({ nonce: view.nonce, probes: view.names.map((n, i) => ({ index: i, name: n.name, host: n.probeHost })) }).replace(/</g, '\\u003c');
  return `${head}
<h1>Filter check for this device</h1>
<p>${escapeHtml(schoolName)}’s filter sees this device as follows. Open this page on the device you want to check, on the network you want to check.</p>
${seenAs}
<p class="muted">A device that uses its own DNS-over-HTTPS address (a managed device or a signed-in person) is filtered as that device or person: the last column shows what this device’s own DNS does, whoever it is filtered as.</p>
<table><thead><tr><th scope="col">Test name</th><th scope="col">What the filter decides for this address</th><th scope="col">On this device</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<p id="summary" class="muted" aria-live="polite"></p>
<p class="muted"><small>How the last column works: the page loads a small image from each test name. A name the filter blocks is sent to Schoolgate’s block page, which records it. Browsers load some names only over HTTPS (HSTS, e.g. pornhub.com, facebook.com): those reach the block page only where it answers HTTPS with the school’s root certificate installed on the device, so on other devices they show “not blocked here” even when blocked; the middle column is then the answer.</small></p>
<script type="application/json" id="check-data">${data}</script>
<script src="/check/check.js"></script>
${tail}`;
}

/**
 * The page's script: loads each probe as an image (whatever comes back, the
 * request is what counts), then asks the server which probes arrived.
 */
export const DEVICE_CHECK_SCRIPT = `(function () {
  var data = JSON.parse(document.getElementById('check-data').textContent);
  var port = location.port ? ':' + location.port : '';
  var waiting = 0;
  var settled = function () {
    waiting -= 1;
    if (waiting === 0) report();
  };
  data.probes.forEach(function (p) {
    if (!p.host) return;
    var cell = document.getElementById('probe-' + p.index);
    cell.textContent = 'checking…';
    waiting += 1;
    var image = new Image();
    var done = false;
    var finish = function () { if (!done) { done = true; settled(); } };
    image.onload = finish;
    image.onerror = finish;
    setTimeout(finish, 5000);
    image.src = location.protocol + '//' + p.host + port + '/check/probe/' + encodeURIComponent(data.nonce);
  });
  if (waiting === 0) report();
  function report() {
    fetch('/check/results/' + encodeURIComponent(data.nonce), { cache: 'no-store' })
      .then(function (r) { return r.json(); })
      .then(function (result) {
        var arrived = {};
        result.arrived.forEach(function (n) { arrived[n] = true; });
        var blocked = 0;
        data.probes.forEach(function (p) {
          if (!p.host) return;
          var cell = document.getElementById('probe-' + p.index);
          var yes = arrived[p.name] === true;
          if (yes) blocked += 1;
          cell.className = yes ? 'blocked' : 'open';
          cell.textContent = yes ? 'blocked here' : 'not blocked here';
        });
        document.getElementById('summary').textContent = 'This device’s own DNS sent ' + blocked + ' of ' + result.probed.length + ' probed names to the block page.';
        document.body.setAttribute('data-check', 'done');
      })
      .catch(function () {
        document.getElementById('summary').textContent = 'Could not read the results from Schoolgate.';
      });
  }
})();
`;
