{# report.html's drawing script: draws every chart from its JSON block and marks it when drawn (the tests
   read the marks). No "Share chart..." button: it would send the chart, the workshop's words included,
   to Plotly's cloud. The page allows this script by its sha256: any change here changes the page. #}

(function () {
  Plotly.register({{ locale|tojson }});
  var charts = document.querySelectorAll("[data-figure]");
  var drawing = [];
  charts.forEach(function (chart) {
    var figure = JSON.parse(document.getElementById(chart.getAttribute("data-figure")).textContent);
    var layout = figure.layout || {};
    if (!layout.separators) { layout.separators = ", "; }
    drawing.push(
      Plotly.newPlot(chart, figure.data || [], layout, {responsive: true, displaylogo: false, showSendToCloud: false, locale: "da"})
        .then(function () { chart.setAttribute("data-drawn", "true"); return 1; },
              function (error) { chart.setAttribute("data-drawn", "fejl: " + error); return 0; })
    );
  });
  Promise.all(drawing).then(function (done) {
    document.body.setAttribute("data-charts-drawn", String(done.reduce(function (a, b) { return a + b; }, 0)));
  });
})();
