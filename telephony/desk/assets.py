"""The desk's stylesheet and script, served from memory (no CDN, nothing to install)."""

CSS = """\
:root { font-family: system-ui, sans-serif; color: #1a1a1a; background: #f4f5f7; }
body { margin: 0; line-height: 1.5; }
main { max-width: 60rem; margin: 0 auto; padding: 1rem; }
main.narrow { max-width: 24rem; }
header.top { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center;
  justify-content: space-between; padding: .5rem 1rem; background: #154273; color: #fff; }
header.top h1 { font-size: 1.3rem; margin: 0; }
header.top p { margin: 0; }
form.login { display: grid; gap: .4rem; }
input { font: inherit; padding: .4rem; border: 1px solid #888; border-radius: 4px; }
button { font: inherit; padding: .4rem 1rem; border: 0; border-radius: 4px;
  background: #154273; color: #fff; cursor: pointer; }
button.quiet { background: #fff; color: #154273; }
button:disabled { opacity: .5; cursor: wait; }
.alert { background: #fde8e8; border-left: 4px solid #b00020; padding: .5rem; }
.live { color: #555; font-size: .9rem; }
.live.ok::before { content: "● "; color: #2e7d32; }
.live.down::before { content: "● "; color: #b00020; }
.empty, .muted { color: #555; }
article.handover { background: #fff; border-radius: 6px; padding: .8rem 1rem;
  margin: 0 0 1rem; box-shadow: 0 1px 3px rgba(0,0,0,.15); border-left: 6px solid #154273; }
article.callback { border-left-color: #e17000; }
article.record { border-left-color: #2e7d32; }
article header { display: flex; gap: .8rem; flex-wrap: wrap; font-size: .95rem; }
article .kind { font-weight: bold; }
article h3 { font-size: 1rem; margin: .6rem 0 .2rem; }
dl.data { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: 0; }
dl.data dt { font-weight: bold; }
dl.data dd { margin: 0; }
ol.transcript { list-style: none; padding: 0; margin: .4rem 0; }
ol.transcript li { display: grid; grid-template-columns: 8.5rem 4rem 1fr; gap: .5rem;
  padding: .2rem 0; border-bottom: 1px solid #eee; }
ol.transcript .when { color: #555; font-size: .85rem; }
ol.transcript .who { font-weight: bold; }
ol.transcript li.caller .who { color: #e17000; }
.note { color: #555; font-size: .85rem; }
.warning { color: #8a4b00; font-size: .85rem; font-weight: bold; margin-left: .4rem; }
form.handled { margin-top: .8rem; }
"""

JS = """\
"use strict";
(() => {
  const body = document.body;
  const list = document.getElementById("handovers");
  const live = document.getElementById("live");
  const problem = document.getElementById("problem");
  const baseTitle = "Overdrachten – Loket";
  let source = null;

  const setLive = (ok) => {
    live.textContent = ok ? "Live: nieuwe overdrachten verschijnen vanzelf."
                          : "Geen verbinding. We proberen het opnieuw…";
    live.className = "live " + (ok ? "ok" : "down");
  };
  const showProblem = (text) => {
    problem.textContent = text;
    problem.hidden = !text;
  };
  const setCount = () => {
    const count = list.querySelectorAll("article.handover").length;
    document.title = count ? "(" + count + ") " + baseTitle : baseTitle;
  };
  const toLogin = () => { window.location.assign(body.dataset.login); };

  const connect = () => {
    source = new EventSource(body.dataset.events);
    source.onopen = () => setLive(true);
    source.addEventListener("handovers", (event) => {
      list.innerHTML = event.data;  // HTML escaped by the server
      setCount();
      setLive(true);
    });
    source.addEventListener("logout", () => { source.close(); toLogin(); });
    source.onerror = () => {
      setLive(false);
      if (source.readyState === EventSource.CLOSED) {
        // the server refused the stream: the session may have ended
        fetch(body.dataset.events, { method: "HEAD", credentials: "same-origin" })
          .then((r) => { if (r.status === 401) toLogin(); else setTimeout(connect, 5000); })
          .catch(() => setTimeout(connect, 5000));
      }
    };
  };

  list.addEventListener("submit", async (event) => {
    const form = event.target.closest("form.handled");
    if (!form) return;
    event.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    showProblem("");
    try {
      const response = await fetch(form.action, {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: { "Accept": "application/json" },
      });
      if (response.status === 401) { toLogin(); return; }
      if (!response.ok) throw new Error(String(response.status));
      form.closest("article.handover").remove();
      if (!list.querySelector("article.handover")) {
        list.innerHTML = '<p class="empty">Er zijn nu geen open overdrachten.</p>';
      }
      setCount();
    } catch (err) {
      button.disabled = false;
      showProblem("Afhandelen lukte niet. Probeer het opnieuw.");
    }
  });

  setCount();
  connect();
})();
"""
