// Applies a saved theme before the first paint, so a dark page never flashes light.
(function () {
  try {
    var saved = window.localStorage.getItem("theme");
    if (saved === "dark" || saved === "light") {
      document.documentElement.setAttribute("data-theme", saved);
    }
  } catch (error) {
    // Storage can be disabled; the system setting then decides.
  }
})();
