// Tessera console: live charts, action progress, copy buttons, confirmations.
// No library; the page works without it (only the live parts stop updating).
"use strict";

function refreshLive(panel) {
  fetch(panel.dataset.src, { credentials: "same-origin" })
    .then((r) => (r.ok ? r.text() : Promise.reject(r.status)))
    .then((html) => { panel.innerHTML = html; })
    .catch(() => {});
}

function followAction(box) {
  const label = box.querySelector(".progress-label");
  const bar = box.querySelector("progress");
  const poll = () => {
    fetch(box.dataset.action, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((a) => {
        bar.value = a.progress;
        const what = a.name.replace(/_/g, " ");
        if (a.status === "completed") {
          label.textContent = what + ": done";
          box.classList.add("done");
          const url = new URL(window.location.href);
          url.searchParams.delete("action");
          window.setTimeout(() => window.location.replace(url.toString()), 800);
        } else if (a.status === "failed") {
          label.textContent = what + " failed: " + (a.error || "see the event log");
          box.classList.add("failed");
        } else {
          label.textContent = what + ": " + a.status + " (" + a.progress + "%)";
          window.setTimeout(poll, 1000);
        }
      })
      .catch(() => window.setTimeout(poll, 2000));
  };
  poll();
}

// The snapshot rules of the database form: add and remove rows in place
// (without the script, the form always has an empty row to fill).
function snapshotRules(box) {
  const add = box.querySelector("#add-rule");
  const rows = () => box.querySelectorAll(".snapshot-rule");
  const renumber = () => rows().forEach((row, i) => {
    const n = String(i + 1);
    row.querySelectorAll("input").forEach((input) => { input.id = input.name + "_" + n; });
    row.querySelectorAll("label").forEach((label) => {
      label.htmlFor = label.htmlFor.replace(/\d+$/, n);
      label.textContent = label.textContent.replace(/^Rule \d+/, "Rule " + n);
    });
    row.querySelector(".remove-rule").textContent = "Remove rule " + n;
  });
  const wire = (row) => {
    const remove = row.querySelector(".remove-rule");
    remove.hidden = false;
    remove.addEventListener("click", () => {
      if (rows().length > 1) {
        row.remove();
      } else {
        row.querySelectorAll("input").forEach((input) => { input.value = ""; });
      }
      renumber();
      add.focus();
    });
  };
  rows().forEach(wire);
  add.hidden = false;
  add.addEventListener("click", () => {
    const last = rows()[rows().length - 1];
    const row = last.cloneNode(true);
    row.querySelectorAll("input").forEach((input) => {
      input.value = "";
      input.removeAttribute("aria-invalid");
    });
    last.after(row);
    wire(row);
    renumber();
    row.querySelector("input").focus();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  // After a rejected form, put the keyboard on the first field to fix.
  const invalid = document.querySelector("[aria-invalid='true']");
  if (invalid) invalid.focus();
  const live = document.getElementById("live");
  if (live) window.setInterval(() => refreshLive(live), 2000);
  document.querySelectorAll(".progress[data-action]").forEach(followAction);
  const rules = document.getElementById("snapshot-rules");
  if (rules) snapshotRules(rules);
  document.querySelectorAll("button[data-copy]").forEach((b) => {
    b.addEventListener("click", () => {
      const text = document.getElementById(b.dataset.copy).textContent;
      navigator.clipboard.writeText(text).then(() => { b.textContent = "Copied"; });
    });
  });
  document.querySelectorAll("form[data-confirm]").forEach((f) => {
    f.addEventListener("submit", (e) => {
      if (!window.confirm(f.dataset.confirm)) e.preventDefault();
    });
  });
});
