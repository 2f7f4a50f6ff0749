// The console's job page: follows an issuing job and moves its progress bar, without reloading the page
// (a page that reloads itself loses a screen reader's place). Without JavaScript, "Check progress" reloads it.
(function () {
  "use strict";
  var box = document.getElementById("job");
  var follow = box && box.getAttribute("data-follow");
  if (!follow) { return; }
  var labels = { queued: "Waiting to start", running: "Issuing", done: "Done", failed: "Failed" };
  var bar = document.getElementById("progress");

  function show(job) {
    Object.keys(job).forEach(function (name) {
      var shown = box.querySelector('[data-job="' + name + '"]');
      if (shown && name !== "status") { shown.textContent = job[name] === null ? "?" : String(job[name]); }
    });
    if (job.total) { bar.max = job.total; bar.value = job.processed; }
    var status = box.querySelector('[data-job="status"]');
    var label = labels[job.status] || job.status;
    if (status.textContent !== label) { status.textContent = label; }
  }

  function poll() {
    fetch(follow, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (job) {
        if (!job) { window.setTimeout(poll, 5000); return; }
        show(job);
        if (job.status === "done" || job.status === "failed") { window.location.reload(); return; }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
}());
