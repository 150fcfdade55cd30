// Clicking a suggested tag adds it to the comma-separated tags field (once).
(function () {
  document.querySelectorAll(".tag-suggestions").forEach(function (box) {
    var input = document.getElementById(box.getAttribute("data-tag-input"));
    if (!input) return;
    box.addEventListener("click", function (event) {
      var chip = event.target.closest(".tag-chip");
      if (!chip) return;
      var tags = input.value.split(",").map(function (t) { return t.trim(); }).filter(Boolean);
      var tag = chip.getAttribute("data-tag");
      if (tags.indexOf(tag) === -1) tags.push(tag);
      input.value = tags.join(", ");
      input.focus();
    });
  });
})();
