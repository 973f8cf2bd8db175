"""The static parts of the single-file HTML report: style and script, inline (the page loads nothing).

The Content-Security-Policy of the page forbids every network fetch, so even a value that looks like a
URL can never make the browser reach out.
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

STYLE = """
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#fff; --head:#f6f8fa;
        --add:#1a7f37; --del:#cf222e; --chg:#9a6700; --ren:#8250df; --pend:#0969da; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); margin: 0; padding: 24px 32px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; }
.meta { color: var(--muted); margin-bottom: 16px; }
.summary { font-weight: 600; font-size: 16px; margin: 12px 0; }
.chart { margin: 8px 0 16px; }
.chart text { font: 12px system-ui, sans-serif; fill: var(--fg); }
input.filter { padding: 6px 10px; border: 1px solid var(--line); border-radius: 6px; width: 320px; margin: 4px 0 10px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: var(--head); cursor: pointer; user-select: none; white-space: nowrap; position: sticky; top: 0; }
th::after { content: " \\2195"; color: var(--muted); }
th[aria-sort=ascending]::after { content: " \\25B2"; color: var(--fg); }
th[aria-sort=descending]::after { content: " \\25BC"; color: var(--fg); }
td.v { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; word-break: break-all; }
tr:nth-child(even) td { background: #fbfcfd; }
.tag { display: inline-block; padding: 0 6px; border-radius: 10px; color: #fff; font-size: 12px; white-space: nowrap; }
.k-delete, .k-deprovision { background: var(--del); } .k-add, .k-missing { background: var(--add); }
.k-update, .k-out-of-band { background: var(--chg); } .k-rename, .k-unconfirmed { background: var(--ren); }
.k-pending { background: var(--pend); }
.empty { color: var(--muted); font-style: italic; }
footer { color: var(--muted); margin-top: 28px; font-size: 12px; }
"""

SCRIPT = """
(function () {
  function key(cell) {
    var v = cell.getAttribute('data-sort');
    return v === null ? cell.textContent.trim() : v;
  }
  function compare(a, b) {
    var x = parseFloat(a), y = parseFloat(b);
    if (!isNaN(x) && !isNaN(y) && String(x) === a && String(y) === b) { return x - y; }
    return a.localeCompare(b, undefined, {numeric: true, sensitivity: 'base'});
  }
  function sortBy(table, index, th) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
    rows.sort(function (r1, r2) { return dir * compare(key(r1.cells[index]), key(r2.cells[index])); });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      th.tabIndex = 0;
      th.addEventListener('click', function () { sortBy(table, index, th); });
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sortBy(table, index, th); } });
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll('input.filter'), function (input) {
    var table = document.getElementById(input.getAttribute('data-table'));
    input.addEventListener('input', function () {
      var q = input.value.toLowerCase();
      Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
        r.style.display = r.textContent.toLowerCase().indexOf(q) >= 0 ? '' : 'none';
      });
    });
  });
  // #sort=TABLE_ID:COLUMN clicks a header on load: a link that opens the report sorted
  var m = /^#sort=([\\w-]+):(\\d+)$/.exec(location.hash);
  if (m) {
    var t = document.getElementById(m[1]);
    if (t) { t.tHead.rows[0].cells[+m[2]].click(); }
  }
})();
"""
