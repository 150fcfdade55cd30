// The dark mode toggle: follows the system until the reader chooses, then remembers.
(function () {
  var button = document.getElementById("theme-toggle");
  if (!button) return;
  var root = document.documentElement;
  var systemDark = window.matchMedia("(prefers-color-scheme: dark)");

  function current() {
    var chosen = root.getAttribute("data-theme");
    if (chosen) return chosen;
    return systemDark.matches ? "dark" : "light";
  }

  // A toggle button keeps one name ("Dark mode"); aria-pressed says whether it is on.
  function render() {
    var dark = current() === "dark";
    button.setAttribute("aria-pressed", dark ? "true" : "false");
    button.title = dark ? "Dark mode is on" : "Dark mode is off";
  }

  button.addEventListener("click", function () {
    var next = current() === "dark" ? "light" : "dark";
    root.setAttribute("data-theme", next);
    try {
      window.localStorage.setItem("theme", next);
    } catch (error) {
      // The choice then lasts for this page only.
    }
    render();
  });
  systemDark.addEventListener("change", render);
  button.hidden = false;
  render();
})();
