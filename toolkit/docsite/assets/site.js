/* Headrace docs: selection, column lineage and search over the inline SVG. No dependencies. */
(function () {
  "use strict";
  var D = window.HEADRACE_DOCS || {};
  var svg = document.getElementById("lineage");
  var details = document.getElementById("details");
  var list = document.getElementById("table-list");
  var search = document.getElementById("search");
  var tables = {}, components = {}, nodes = {}, outs = {}, ins = {}, colUp = {}, colDown = {};
  (D.tables || []).forEach(function (t) { tables[t.id] = t; });
  (D.components || []).forEach(function (c) { components[c.id] = c; });
  var lineage = D.lineage || { nodes: [], edges: [], column_edges: [] };
  lineage.nodes.forEach(function (n) { nodes[n.id] = n; outs[n.id] = []; ins[n.id] = []; });
  lineage.edges.forEach(function (e) { (outs[e.source] = outs[e.source] || []).push(e.target); (ins[e.target] = ins[e.target] || []).push(e.source); });
  lineage.column_edges.forEach(function (e) {
    (colUp[e.target] = colUp[e.target] || []).push(e.source);
    (colDown[e.source] = colDown[e.source] || []).push(e.target);
  });

  function esc(s) { return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]; }); }
  function nodeEl(id) { return svg ? svg.querySelector('[data-node="' + cssEsc(id) + '"]') : null; }
  function cssEsc(s) { return window.CSS && CSS.escape ? CSS.escape(s) : s.replace(/"/g, '\\"'); }
  function link(id, text) { return '<a class="link" data-go="' + esc(id) + '">' + esc(text || id) + "</a>"; }
  function when(iso) { if (!iso) return "—"; var d = new Date(iso); return isNaN(d) ? esc(iso) : esc(d.toISOString().replace("T", " ").slice(0, 19) + " UTC"); }

  /* header and note */
  var project = D.project || {};
  document.getElementById("project-desc").textContent = project.description || "";
  var wh = D.warehouse || {};
  var note = document.getElementById("warehouse-note");
  if (!wh.live || wh.note) { note.hidden = false; note.textContent = wh.live ? wh.note : "No live statistics: " + (wh.note || "the warehouse was not read"); }
  document.getElementById("built-with").textContent = " (headrace " + (project.headrace_version || "?") + (project.commit ? ", commit " + project.commit : "") + ")";

  /* the list of tables and components */
  var groups = [["in", "Loaded tables (in_)"], ["out", "Transformation outputs (out_)"], ["dm", "Datamarts (dm_)"], ["other", "Other tables"]];
  var html = "";
  groups.forEach(function (g) {
    var items = (D.tables || []).filter(function (t) { return t.stage === g[0]; });
    if (!items.length) return;
    html += '<div class="group"><h3>' + esc(g[1]) + "</h3>";
    items.forEach(function (t) {
      html += '<a href="#' + esc(t.id) + '" data-item="' + esc(t.id) + '"><span>' + esc(t.id) + '</span><span class="rows">' + (t.rows == null ? "" : esc(t.rows.toLocaleString("en")) + " rows") + "</span></a>";
    });
    html += "</div>";
  });
  [["extractor", "Extractors"], ["transformation", "Transformations"], ["datamart", "Datamarts"]].forEach(function (g) {
    var items = (D.components || []).filter(function (c) { return c.kind === g[0]; });
    if (!items.length) return;
    html += '<div class="group"><h3>' + esc(g[1]) + "</h3>";
    items.forEach(function (c) { html += '<a href="#' + esc(c.id) + '" data-item="' + esc(c.id) + '"><span>' + esc(c.component) + '</span><span class="rows">' + esc(c.type) + "</span></a>"; });
    html += "</div>";
  });
  list.innerHTML = html;

  /* graph highlighting */
  function closure(start, next) {
    var seen = {}, stack = [start];
    while (stack.length) { var n = stack.pop(); (next[n] || []).forEach(function (m) { if (!seen[m]) { seen[m] = true; stack.push(m); } }); }
    return seen;
  }
  function clearHl() {
    if (!svg) return;
    svg.querySelectorAll(".hl, .selected").forEach(function (el) { el.classList.remove("hl", "selected"); });
    svg.classList.remove("dimmed");
  }
  function highlight(set) {
    if (!svg) return;
    svg.classList.add("dimmed");
    Object.keys(set).forEach(function (id) { var el = nodeEl(id); if (el) el.classList.add("hl"); });
    svg.querySelectorAll(".edge").forEach(function (e) { if (set[e.getAttribute("data-from")] && set[e.getAttribute("data-to")]) e.classList.add("hl"); });
  }
  function focusNode(id) {
    var el = nodeEl(id);
    if (!el) return;
    el.classList.add("selected");
    var box = el.getBBox(), pane = document.getElementById("graph");
    if (box.x < pane.scrollLeft || box.x + box.width > pane.scrollLeft + pane.clientWidth) pane.scrollLeft = Math.max(0, box.x - 80);
    if (box.y < pane.scrollTop || box.y + box.height > pane.scrollTop + pane.clientHeight) pane.scrollTop = Math.max(0, box.y - 80);
  }

  /* details */
  function showTable(t) {
    var rows = '<table class="cols"><thead><tr><th>Column</th><th>Type</th><th>Comes from</th><th>Feeds</th></tr></thead><tbody>';
    t.columns.forEach(function (c) {
      var key = t.id + "." + c.name;
      var from = (colUp[key] || []).map(function (s) { return columnLink(s); }).join("");
      var to = (colDown[key] || []).map(function (s) { return columnLink(s); }).join("");
      rows += '<tr data-column="' + esc(c.name) + '"><td><a class="link" data-col="' + esc(key) + '"><code>' + esc(c.name) + "</code></a></td><td><code>" + esc(c.type) + '</code></td><td class="from">' + (from || '<span class="hint">—</span>') + '</td><td class="from">' + (to || '<span class="hint">—</span>') + "</td></tr>";
    });
    rows += "</tbody></table>";
    var known = t.columns.length ? t.columns[0].known_from : "";
    details.innerHTML = "<h2>" + esc(t.id) + '</h2><div class="sub">' + esc({ in: "loaded by an extractor", out: "made by a transformation", dm: "published by a datamart" }[t.stage] || "") + "</div>" +
      '<div class="facts"><div><b>Rows</b>' + (t.rows == null ? "—" : esc(t.rows.toLocaleString("en"))) + "</div><div><b>Fresh at</b>" + when(t.fresh_at) + "</div>" +
      "<div><b>Written by</b>" + (t.written_by ? link(t.written_by) : "—") + "</div><div><b>Read by</b>" + (t.read_by.length ? t.read_by.map(function (r) { return link(r); }).join("") : "—") + "</div>" +
      "<div><b>Columns known from</b>" + esc(known || "—") + "</div></div>" +
      (t.columns.length ? rows : '<p class="hint">No columns known: build with the warehouse after a run, or declare them.</p>');
  }
  function columnLink(ref) {
    var i = ref.lastIndexOf(".");
    return '<a class="link" data-col="' + esc(ref) + '"><code>' + esc(ref.slice(0, i)) + "." + esc(ref.slice(i + 1)) + "</code></a>";
  }
  function showComponent(c) {
    var run = c.last_run ? '<span class="status-' + esc(c.last_run.status) + '">' + esc(c.last_run.status) + "</span> " + when(c.last_run.ended_at) : "—";
    var sql = (c.sql || []).map(function (f) { return "<h3>" + esc(f.file) + (f.assertion ? " (assertion)" : "") + "</h3><pre>" + esc(f.sql) + "</pre>"; }).join("");
    details.innerHTML = "<h2>" + esc(c.id) + '</h2><div class="sub">' + esc(c.description || "") + "</div>" +
      '<div class="facts"><div><b>Type</b>' + esc(c.type) + "</div><div><b>Defined in</b><code>" + esc(c.source_file) + "</code></div><div><b>Last run</b>" + run + "</div><div><b>Last success</b>" + when(c.last_success) + "</div></div>" +
      '<div class="facts"><div><b>Reads</b>' + (c.reads.map(function (r) { return link(r); }).join("") || "—") + "</div><div><b>Writes</b>" + (c.writes.map(function (r) { return link(r); }).join("") || "—") + "</div></div>" +
      "<h3>Configuration</h3><pre>" + esc(JSON.stringify(c.config || {}, null, 2)) + "</pre>" + sql;
  }
  function showSource(n) {
    var extractor = (outs[n.id] || [])[0];
    details.innerHTML = "<h2>" + esc(n.label) + '</h2><div class="sub">source (' + esc(n.detail) + ") read by " + (extractor ? link(extractor) : "?") + "</div>";
  }

  function select(id, column) {
    clearHl();
    list.querySelectorAll("a.selected").forEach(function (a) { a.classList.remove("selected"); });
    var item = list.querySelector('[data-item="' + cssEsc(id) + '"]');
    if (item) item.classList.add("selected");
    if (tables[id]) showTable(tables[id]);
    else if (components[id]) showComponent(components[id]);
    else if (nodes[id] && nodes[id].kind === "source") showSource(nodes[id]);
    else return;
    var set = {}; set[id] = true;
    if (column) {
      var key = id + "." + column, cols = {};
      cols[key] = true;
      [closure(key, colUp), closure(key, colDown)].forEach(function (s) { Object.keys(s).forEach(function (k) { cols[k] = true; }); });
      var tbls = {};
      Object.keys(cols).forEach(function (k) { tbls[k.slice(0, k.lastIndexOf("."))] = true; });
      Object.keys(tbls).forEach(function (t) { set[t] = true; (outs[t] || []).forEach(function (task) { if ((outs[task] || []).some(function (o) { return tbls[o]; })) set[task] = true; }); });
      var row = details.querySelector('tr[data-column="' + cssEsc(column) + '"]');
      if (row) { row.classList.add("col-hl"); }
    } else {
      [closure(id, ins), closure(id, outs)].forEach(function (s) { Object.keys(s).forEach(function (k) { set[k] = true; }); });
    }
    highlight(set);
    focusNode(id);
    if (location.hash !== "#" + id) history.replaceState(null, "", "#" + encodeURIComponent(id) + (column ? "." + encodeURIComponent(column) : ""));
  }
  function selectColumn(ref) {
    var i = ref.lastIndexOf(".");
    select(ref.slice(0, i), ref.slice(i + 1));
  }

  document.addEventListener("click", function (ev) {
    var t = ev.target.closest ? ev.target.closest("[data-node],[data-item],[data-go],[data-col]") : null;
    if (!t) return;
    ev.preventDefault();
    if (t.hasAttribute("data-col")) selectColumn(t.getAttribute("data-col"));
    else select(t.getAttribute("data-node") || t.getAttribute("data-item") || t.getAttribute("data-go"));
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && ev.target.hasAttribute && ev.target.hasAttribute("data-node")) select(ev.target.getAttribute("data-node"));
  });

  /* search */
  function haystack(id) {
    var n = nodes[id] || {}, parts = [id, n.label || "", n.detail || ""];
    if (tables[id]) tables[id].columns.forEach(function (c) { parts.push(c.name); });
    if (components[id]) parts.push(components[id].description || "", JSON.stringify(components[id].config || {}));
    return parts.join(" ").toLowerCase();
  }
  var hay = {};
  Object.keys(nodes).forEach(function (id) { hay[id] = haystack(id); });
  Object.keys(tables).concat(Object.keys(components)).forEach(function (id) { if (!hay[id]) hay[id] = haystack(id); });
  var matches = [];
  function runSearch() {
    var q = search.value.trim().toLowerCase();
    if (svg) svg.querySelectorAll(".match").forEach(function (el) { el.classList.remove("match"); });
    matches = [];
    if (!q) {
      list.querySelectorAll(".hidden").forEach(function (a) { a.classList.remove("hidden"); });
      if (svg && !svg.querySelector(".selected")) svg.classList.remove("dimmed");
      document.getElementById("match-count").textContent = "";
      return;
    }
    Object.keys(hay).forEach(function (id) { if (hay[id].indexOf(q) >= 0) matches.push(id); });
    matches.sort(function (a, b) { return (tables[b] ? 1 : 0) - (tables[a] ? 1 : 0) || (a < b ? -1 : a > b ? 1 : 0); });  /* tables first */
    clearHl();
    if (svg) svg.classList.add("dimmed");
    matches.forEach(function (id) { var el = nodeEl(id); if (el) el.classList.add("match"); });
    list.querySelectorAll("a[data-item]").forEach(function (a) { a.classList.toggle("hidden", matches.indexOf(a.getAttribute("data-item")) < 0); });
    list.querySelectorAll(".group").forEach(function (g) { g.classList.toggle("hidden", !g.querySelector("a:not(.hidden)")); });
    document.getElementById("match-count").textContent = matches.length + (matches.length === 1 ? " match" : " matches");
  }
  search.addEventListener("input", runSearch);
  search.addEventListener("keydown", function (ev) { if (ev.key === "Enter" && matches.length) select(matches[0]); });

  /* before anything is selected: the project at a glance */
  function overview() {
    var count = function (stage) { return (D.tables || []).filter(function (t) { return t.stage === stage; }).length; };
    var kinds = function (kind) { return (D.components || []).filter(function (c) { return c.kind === kind; }).length; };
    var orch = (D.orchestrations || []).map(function (o) {
      return "<tr><td><code>" + esc(o.id) + "</code></td><td>" + esc(o.schedule || "manual") + "</td><td>" + esc(o.description || "") + "</td></tr>";
    }).join("");
    details.innerHTML = "<h2>" + esc(project.name) + '</h2><div class="sub">' + esc(project.description || "") + "</div>" +
      '<div class="facts"><div><b>Loaded tables</b>' + count("in") + "</div><div><b>Outputs</b>" + count("out") + "</div><div><b>Published</b>" + count("dm") + "</div>" +
      "<div><b>Extractors</b>" + kinds("extractor") + "</div><div><b>Transformations</b>" + kinds("transformation") + "</div><div><b>Datamarts</b>" + kinds("datamart") + "</div>" +
      "<div><b>Warehouse</b>" + esc((project.warehouse || {}).type || "?") + "</div></div>" +
      (orch ? '<h3>Orchestrations</h3><table class="cols"><thead><tr><th>Id</th><th>Schedule</th><th>Description</th></tr></thead><tbody>' + orch + "</tbody></table>" : "") +
      '<p class="hint">Select a table or component in the picture or the list; select a column for its lineage.</p>';
  }
  overview();

  /* the whole picture in the pane's width, or at its own size */
  var fit = document.getElementById("fit");
  fit.addEventListener("click", function () {
    var on = document.getElementById("graph").classList.toggle("fit");
    fit.setAttribute("aria-pressed", on ? "true" : "false");
  });

  /* start from the address's #table or #table.column */
  var start = decodeURIComponent(location.hash.slice(1));
  if (start) {
    if (tables[start] || components[start] || nodes[start]) select(start);
    else if (tables[start.slice(0, start.lastIndexOf("."))]) selectColumn(start);
  }
})();
