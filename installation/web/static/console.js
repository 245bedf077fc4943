// The wall page follows the show live (server-sent events); no framework, no build step.
"use strict";
(function () {
  const wall = document.getElementById("wall");
  if (!wall || !window.EventSource) return;
  const live = document.getElementById("live");
  const source = new EventSource(wall.dataset.live);
  source.onopen = () => { live.textContent = "live updates: on"; };
  source.onerror = () => { live.textContent = "live updates: reconnecting…"; };
  source.onmessage = (message) => {
    const view = JSON.parse(message.data);
    wall.querySelectorAll("[data-k]").forEach((el) => {
      const value = view[el.dataset.k];
      if (value !== undefined && el.textContent !== String(value)) el.textContent = value;
    });
    const state = document.getElementById("state");
    state.className = "state state-" + view.state;
    const list = document.getElementById("errors");
    list.replaceChildren(...(view.errors.length ? view.errors : ["none"]).map((text) => {
      const li = document.createElement("li");
      li.textContent = text;
      return li;
    }));
    const now = document.getElementById("now");
    if (now.dataset.v !== view.variation_id) {
      now.dataset.v = view.variation_id;
      now.src = "/now.jpg?v=" + encodeURIComponent(view.variation_id);
    }
    live.textContent = "live updates: on · " + new Date().toLocaleTimeString();
  };
})();
