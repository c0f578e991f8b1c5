/* The platform's own script: small progressive enhancements; every page works without it. */
(function () {
  "use strict";

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // Live countdowns to task deadlines: <span class="countdown" data-deadline="ISO">.
  function tickCountdowns() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-deadline]").forEach(function (el) {
      var left = Math.round((Date.parse(el.dataset.deadline) - now) / 1000);
      var late = left < 0, s = Math.abs(left);
      var text = (late ? "-" : "") + Math.floor(s / 3600) + ":" + pad(Math.floor(s % 3600 / 60)) + ":" + pad(s % 60);
      el.textContent = text;
      el.classList.toggle("late", late);
    });
  }

  // Repeating groups of rows (Django formsets): add from <template>, remove via DELETE.
  function setupFormsets(root) {
    root.querySelectorAll("[data-formset]").forEach(function (box) {
      if (box.dataset.ready) return;
      box.dataset.ready = "1";
      var prefix = box.dataset.formset;
      var total = box.querySelector("#id_" + prefix + "-TOTAL_FORMS");
      var tpl = box.querySelector("template");
      var rows = box.querySelector(".rows");
      var add = box.querySelector("[data-add-row]");
      if (add) {
        add.hidden = false;
        add.addEventListener("click", function () {
          var index = parseInt(total.value, 10);
          var html = tpl.innerHTML.replace(/__prefix__/g, index).replace(/__num__/g, index + 1);
          rows.insertAdjacentHTML("beforeend", html);
          total.value = index + 1;
          var row = rows.lastElementChild;
          if (window.htmx) window.htmx.process(row);
          setupRemove(row);
          var first = row.querySelector("input, select");
          if (first) first.focus();
        });
      }
      rows.querySelectorAll(".row").forEach(setupRemove);
    });
  }
  function setupRemove(row) {
    var del = row.querySelector("input[name$='-DELETE']");
    var btn = row.querySelector("[data-remove-row]");
    if (!del || !btn) return;
    del.closest(".delete-box").hidden = true;
    btn.hidden = false;
    btn.addEventListener("click", function () {
      del.checked = true;
      row.hidden = true;
      row.querySelectorAll("input, select").forEach(function (i) { if (i !== del) i.required = false; });
    });
  }

  // The money-flow graph (Cytoscape, served locally). window.cy is the instance.
  function drawFlow() {
    var box = document.getElementById("flow");
    var data = document.getElementById("flow-data");
    if (!box || !data || !window.cytoscape) return;
    var g = JSON.parse(data.textContent);
    window.cy = window.cytoscape({
      container: box,
      elements: g.nodes.map(function (n) { return { data: n, classes: n.classes }; })
        .concat(g.edges.map(function (e) { return { data: e }; })),
      style: [
        { selector: "node", style: { "label": "data(label)", "text-wrap": "wrap", "font-size": 10,
          "background-color": "#7a8aa0", "width": 22, "height": 22, "text-valign": "bottom", "text-margin-y": 4,
          "font-family": getComputedStyle(document.body).fontFamily } },
        { selector: "node.victim", style: { "background-color": "#1e7b34", "shape": "round-rectangle" } },
        { selector: "node.held", style: { "background-color": "#b3261e", "border-width": 3, "border-color": "#f5a623" } },
        { selector: "edge", style: { "label": "data(label)", "font-size": 9, "curve-style": "bezier",
          "target-arrow-shape": "triangle", "width": 2, "line-color": "#9aa6b5", "target-arrow-color": "#9aa6b5",
          "text-background-color": "#fff", "text-background-opacity": 1 } }
      ],
      layout: { name: "breadthfirst", directed: true, spacingFactor: 1.2, padding: 20 },
      userZoomingEnabled: true
    });
  }

  // Dashboard charts (Chart.js, served locally).
  function drawCharts() {
    var data = document.getElementById("chart-data");
    if (!data || !window.Chart) return;
    var d = JSON.parse(data.textContent);
    var resp = document.getElementById("chart-response");
    if (resp) new window.Chart(resp, { type: "bar", data: { labels: d.labels,
      datasets: [{ label: d.response_label, data: d.response, backgroundColor: "#0b5cad" }] },
      options: { maintainAspectRatio: false, plugins: { legend: { display: true } } } });
    var ontime = document.getElementById("chart-ontime");
    if (ontime) new window.Chart(ontime, { type: "bar", data: { labels: d.labels,
      datasets: [{ label: d.ontime_label, data: d.ontime, backgroundColor: "#1e7b34" }] },
      options: { maintainAspectRatio: false, scales: { y: { min: 0, max: 100 } } } });
  }

  // The review's "Print" link (the CSP forbids inline handlers).
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-print]");
    if (link) { event.preventDefault(); window.print(); }
  });

  // Session timeout: polling must not keep an unattended session alive for ever.
  // After the session's idle age without keyboard or pointer activity, polls stop
  // (see pausePolls) and the server-side session lapses.
  function watchIdle() {
    var limit = parseInt(document.body.dataset.idleSeconds || "0", 10) * 1000;
    if (!limit) return;
    var last = Date.now();
    ["keydown", "pointerdown", "pointermove", "wheel"].forEach(function (name) {
      document.addEventListener(name, function () { last = Date.now(); window.afcIdle = false; }, { passive: true });
    });
    setInterval(function () { if (Date.now() - last > limit) window.afcIdle = true; }, 30000);
  }

  // Polls pause without a trigger filter (htmx would eval it; the CSP forbids eval):
  // data-poll="idle" while the person is away, "checked" while a row of the element is ticked.
  function pausePolls(e) {
    var el = e.detail && e.detail.elt;
    var when = (el && el.dataset && el.dataset.poll) || "";
    if (!when) return;
    if (/\bidle\b/.test(when) && window.afcIdle) e.preventDefault();
    else if (/\bchecked\b/.test(when) && el.querySelector("input[type=checkbox]:checked")) e.preventDefault();
  }

  // Narrow screens: each table row becomes a card whose cells carry their column's
  // name (CSS shows data-label before the value under 640 px; see app.css "Phones").
  // Tables without a header row are left alone and scroll inside their box instead.
  function stackTables(root) {
    root.querySelectorAll("main table").forEach(function (table) {
      var head = table.tHead;
      if (!head || !head.rows.length) return;
      var labels = [];
      Array.prototype.forEach.call(head.rows[0].cells, function (th) {
        for (var i = 0; i < th.colSpan; i++) labels.push(th.textContent.trim());
      });
      table.classList.add("stack");
      Array.prototype.forEach.call(table.tBodies, function (body) {
        Array.prototype.forEach.call(body.rows, function (tr) {
          var col = 0;
          Array.prototype.forEach.call(tr.cells, function (td) {
            if (td.colSpan === 1 && !td.hasAttribute("data-label")) td.setAttribute("data-label", labels[col] || "");
            col += td.colSpan;
          });
        });
      });
    });
  }

  // A box that scrolls by itself (a long timeline) must be reachable by keyboard.
  function focusableScrollers(root) {
    root.querySelectorAll("main *").forEach(function (el) {
      if (el.hasAttribute("tabindex") || el.scrollHeight <= el.clientHeight + 1 && el.scrollWidth <= el.clientWidth + 1) return;
      var style = getComputedStyle(el);
      if (/(auto|scroll)/.test(style.overflowX + style.overflowY)) el.setAttribute("tabindex", "0");
    });
  }

  function ready() {
    watchIdle();
    stackTables(document);
    document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
      s.addEventListener("change", function () { s.form.submit(); });
    });
    document.querySelectorAll("[data-check-all]").forEach(function (box) {
      box.addEventListener("change", function () {
        document.querySelectorAll("input[name='" + box.dataset.checkAll + "']").forEach(function (c) { if (!c.disabled) c.checked = box.checked; });
      });
    });
    // Destructive buttons ask first (without JavaScript they simply submit).
    document.addEventListener("click", function (e) {
      var btn = e.target.closest("[data-confirm]");
      if (btn && !window.confirm(btn.dataset.confirm)) e.preventDefault();
    });
    setupFormsets(document);
    drawFlow();
    drawCharts();
    tickCountdowns();
    setInterval(tickCountdowns, 1000);
    focusableScrollers(document);
  }
  document.addEventListener("DOMContentLoaded", ready);
  document.addEventListener("htmx:beforeRequest", pausePolls);
  document.addEventListener("htmx:afterSwap", function (e) {
    tickCountdowns();
    setupFormsets(e.target);
    stackTables(document);
  });
})();
