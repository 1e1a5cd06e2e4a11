// Draws the dashboard's charts (ECharts) from the JSON beside each chart, sorts tables, and keeps URLs clean.
// Every figure is also in a table on the page: without this script (or the vendored libraries) nothing is lost.
(function () {
  "use strict";
  var INK = "#1f2933", MUTED = "#4b5563", GRID = "#e4e7eb", ACCENT = "#2563eb";
  var SERIES = ["#2563eb", "#0d9488", "#d97706", "#9333ea", "#dc2626", "#4b5563", "#65a30d", "#db2777"];

  function compact(value) {
    var abs = Math.abs(value), scales = [[1e12, "T"], [1e9, "B"], [1e6, "M"], [1e3, "K"]];
    for (var i = 0; i < scales.length; i++) {
      if (abs >= scales[i][0]) {
        var scaled = value / scales[i][0];
        return scaled.toFixed(Math.abs(scaled) >= 99.95 ? 0 : 1).replace(/\.0$/, "") + scales[i][1];
      }
    }
    return Number.isInteger(value) ? String(value) : value.toFixed(1);
  }
  function formatter(unit, precise) {
    if (unit === "usd") {
      return function (v) {
        if (v === null || v === undefined) return "–";
        if (!precise && Math.abs(v) >= 1000) return "$" + compact(v);
        if (Math.abs(v) > 0 && Math.abs(v) < 0.01) return "$" + v.toPrecision(2);
        return "$" + v.toLocaleString("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2});
      };
    }
    if (unit === "tokens") return function (v) { return compact(v) + (precise ? " tokens" : ""); };
    return function (v) { return precise ? Number(v).toLocaleString("en-US") : compact(v); };
  }

  function option(spec) {
    var axisValue = formatter(spec.unit, false), exact = formatter(spec.unit, true);
    var base = {
      animation: false,
      textStyle: {fontFamily: "DejaVu Sans, WenQuanYi Micro Hei, sans-serif", color: INK},
      grid: {left: 8, right: 16, top: 16, bottom: 8, containLabel: true},
      tooltip: {trigger: spec.kind === "heatmap" ? "item" : "axis", valueFormatter: exact}
    };
    if (spec.kind === "heatmap") {
      var max = Math.max.apply(null, spec.series[0].values.map(function (v) { return v[2]; }).concat([1]));
      base.tooltip = {formatter: function (p) {
        return spec.rows[p.value[1]] + " " + spec.labels[p.value[0]] + ":00 — " + exact(p.value[2]) + " sessions";
      }};
      base.grid.bottom = 48;
      base.xAxis = {type: "category", data: spec.labels, axisLabel: {color: MUTED}, name: "start hour", nameLocation: "middle", nameGap: 24};
      base.yAxis = {type: "category", data: spec.rows, inverse: true, axisLabel: {color: MUTED}};
      base.visualMap = {min: 0, max: max, show: false, inRange: {color: ["#f5f7fa", "#a9c1f5", ACCENT]}};
      base.series = [{type: "heatmap", data: spec.series[0].values}];
      return base;
    }
    var category = {type: "category", data: spec.labels, axisLabel: {color: MUTED}, axisLine: {lineStyle: {color: GRID}}};
    var value = {type: "value", axisLabel: {color: MUTED, formatter: axisValue}, splitLine: {lineStyle: {color: GRID}}};
    if (spec.kind === "hbar") {
      category.inverse = true;
      category.axisLabel.width = 160;
      category.axisLabel.interval = 0;
      category.axisLabel.overflow = "truncate";
      base.xAxis = value; base.yAxis = category;
    } else {
      base.xAxis = category; base.yAxis = value;
    }
    base.series = spec.series.map(function (s, i) {
      return {
        name: s.name, type: spec.kind === "line" ? "line" : "bar", data: s.values, showSymbol: spec.labels.length < 40,
        itemStyle: {color: SERIES[i % SERIES.length]}, lineStyle: {width: 2}, barMaxWidth: 28
      };
    });
    if (spec.flagged && spec.flagged.length) base.series[0].markLine = flaggedLines(spec.flagged);
    return base;
  }

  // A dashed line at each period with a flagged day (an unusual cost); the page's table lists them with the reason.
  function flaggedLines(flagged) {
    return {
      symbol: "none", silent: true, animation: false,
      lineStyle: {color: "#b91c1c", type: "dashed", width: 1.5},
      label: {show: true, position: "end", color: "#991b1b", fontSize: 11, formatter: "flagged"},
      data: flagged.map(function (f) { return {xAxis: f.label, name: f.text}; })
    };
  }

  function drawCharts(root) {
    if (!window.echarts) return;
    root.querySelectorAll("[data-chart]").forEach(function (element) {
      var data = element.parentNode.querySelector("script.chart-data");
      if (!data) return;
      var existing = window.echarts.getInstanceByDom(element);
      if (existing) existing.dispose();
      window.echarts.init(element, null, {renderer: "canvas"}).setOption(option(JSON.parse(data.textContent)));
    });
  }

  function sortable(root) {
    root.querySelectorAll("table.sortable").forEach(function (table) {
      table.querySelectorAll("thead th").forEach(function (th, column) {
        if (th.hasAttribute("data-nosort") || th.querySelector("button.sort")) return;
        var button = document.createElement("button");
        button.type = "button"; button.className = "sort"; button.textContent = th.textContent;
        th.textContent = ""; th.appendChild(button);
        button.addEventListener("click", function () {
          var descending = th.getAttribute("aria-sort") !== "descending";
          table.querySelectorAll("thead th").forEach(function (other) { other.removeAttribute("aria-sort"); });
          th.setAttribute("aria-sort", descending ? "descending" : "ascending");
          var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
          rows.sort(function (a, b) {
            var x = key(a.cells[column]), y = key(b.cells[column]);
            var order = (typeof x === "number" && typeof y === "number") ? x - y : String(x).localeCompare(String(y));
            return descending ? -order : order;
          });
          rows.forEach(function (row) { body.appendChild(row); });
        });
      });
    });
  }
  function key(cell) {
    if (!cell) return "";
    var value = cell.getAttribute("data-value");
    if (value === null) return cell.textContent.trim();
    var number = Number(value);
    return value !== "" && !isNaN(number) ? number : value;
  }

  // Empty date fields would put `from=&to=` in the URL: leave them out of the submitted form.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form.filters")) return;
    form.querySelectorAll("input[type=date]").forEach(function (input) { input.disabled = input.value === ""; });
    setTimeout(function () { form.querySelectorAll("input[type=date]").forEach(function (i) { i.disabled = false; }); }, 0);
  }, true);

  // One filter's choices open at a time (they drop down over the next ones).
  document.addEventListener("toggle", function (event) {
    var opened = event.target;
    if (!opened.matches || !opened.matches("details.choice") || !opened.open) return;
    document.querySelectorAll("details.choice[open]").forEach(function (other) {
      if (other !== opened) other.open = false;
    });
  }, true);

  function ready(root) { drawCharts(root); sortable(root); }
  document.addEventListener("DOMContentLoaded", function () { ready(document); });
  document.addEventListener("htmx:load", function (event) { ready(event.target); });
  window.addEventListener("resize", function () {
    if (!window.echarts) return;
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var chart = window.echarts.getInstanceByDom(el);
      if (chart) chart.resize();
    });
  });
})();
