// The console's little script: live queue refresh, deadline countdowns, and the Mini App sign-in.
(function () {
  "use strict";
  const zh = document.documentElement.lang !== "en";

  function timeLeft(due) {
    let seconds = Math.round((new Date(due) - new Date()) / 1000);
    const sign = seconds < 0 ? "-" : "";
    seconds = Math.abs(seconds);
    const hours = Math.floor(seconds / 3600), minutes = String(Math.floor((seconds % 3600) / 60)).padStart(2, "0");
    return zh ? `${sign}${hours}小时${minutes}分` : `${sign}${hours} h ${minutes} min`;
  }

  function tickCountdowns() {
    document.querySelectorAll(".countdown[data-due]").forEach(function (cell) {
      const late = new Date(cell.dataset.due) <= new Date();
      cell.textContent = timeLeft(cell.dataset.due) + (late ? (zh ? " · 已超时" : " · breached") : "");
      cell.closest("tr").classList.toggle("breached", late);
    });
  }

  function pollRows(body) {
    const every = Number(body.dataset.every || 5) * 1000;
    const live = document.getElementById("live");
    async function refresh() {
      try {
        // Not asking for text/html: a lapsed session then answers 401 (and the page reloads to the sign-in)
        // rather than a redirect whose sign-in page would land inside the table.
        const answer = await fetch(body.dataset.poll, { credentials: "same-origin" });
        if (answer.ok) {
          body.innerHTML = await answer.text();
          tickCountdowns();
          if (live) live.classList.remove("error");
        } else if (answer.status === 401) {
          window.location.reload();
        }
      } catch (error) {
        if (live) live.classList.add("error");
      }
      setTimeout(refresh, every);
    }
    setTimeout(refresh, every);
  }

  // Opened as a Mini App, Telegram puts the signed initData in the page's fragment (tgWebAppData=…), so
  // no script from Telegram is needed to read it.
  function initData() {
    const launch = new URLSearchParams(window.location.hash.slice(1));
    const app = window.Telegram && window.Telegram.WebApp;
    return launch.get("tgWebAppData") || (app && app.initData) || "";
  }

  async function miniAppSignIn(box) {
    const data = initData();
    if (!data) return;
    const form = new FormData();
    form.append("init_data", data);
    const answer = await fetch(box.dataset.url, { method: "POST", body: form, credentials: "same-origin" });
    const result = await answer.json();
    if (result.ok) window.location.href = result.next;
    else box.textContent = box.dataset.refused;
  }

  document.addEventListener("DOMContentLoaded", function () {
    const rows = document.getElementById("queue-rows");
    if (rows) {
      tickCountdowns();
      setInterval(tickCountdowns, 30000);
      pollRows(rows);
    }
    const box = document.getElementById("webapp-login");
    if (box) miniAppSignIn(box);
    const history = document.getElementById("history");
    if (history && history.lastElementChild) history.lastElementChild.scrollIntoView({ block: "nearest" });
  });
})();
