// After a resource is marked in place, the progress view sends the reader's done counts
// with the "progress-changed" event (an HX-Trigger header); every counter on the page that
// names a section (data-done-of, data-done-title-of) or the whole roadmap (data-done-total)
// shows its new count.
document.addEventListener("progress-changed", (event) => {
  const { sections, total } = event.detail;
  for (const element of document.querySelectorAll("[data-done-of]")) {
    const done = sections[element.dataset.doneOf];
    if (done === undefined) continue;
    if (element instanceof HTMLProgressElement) element.value = done;
    else element.textContent = done;
  }
  for (const element of document.querySelectorAll("[data-done-title-of]")) {
    const done = sections[element.dataset.doneTitleOf];
    if (done !== undefined) element.title = element.title.replace(/^\d+/, done);
  }
  for (const element of document.querySelectorAll("[data-done-total]")) {
    element.textContent = total;
  }
});
