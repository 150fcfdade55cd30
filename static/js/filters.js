// The explorer's filters sit behind "Filters (n)" on a phone; where there is room beside the
// results they start open. Loaded right after the panel, so it opens before the first paint.
(function () {
  var panel = document.getElementById("filter-panel");
  if (panel && window.matchMedia("(min-width: 900px)").matches) {
    panel.open = true;
  }
})();
