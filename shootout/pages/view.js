// The hand-written progress view of the Socket.IO and partysocket pages, as a
// team writes one: a status line, a bar and the latest progress, no polling.
export function createView(document) {
  const section = document.createElement("section");
  section.id = "view";
  section.innerHTML = '<p class="status"></p><progress max="100" value="0"></progress><p class="text"></p>';
  document.body.append(section);
  const status = section.querySelector(".status");
  const bar = section.querySelector("progress");
  const text = section.querySelector(".text");
  return {
    status(label) {
      section.dataset.status = label;
      status.textContent = `status: ${label}`;
    },
    show(p) {
      section.dataset.seq = p.seq;
      section.dataset.percent = p.percent;
      section.dataset.state = p.state;
      bar.value = p.percent;
      text.textContent = `${Math.round(p.percent)} % (${p.state}) ${p.message}`;
    },
  };
}

// What the screen shows, for the shoot-out's watcher.
export function readView(document) {
  const s = document.getElementById("view");
  if (!s) return null;
  return {
    seq: Number(s.dataset.seq || 0), percent: Number(s.dataset.percent || 0), state: s.dataset.state || "",
    indicator: s.dataset.status, live: s.dataset.status === "connected",
  };
}

export const isTerminal = (p) => ["completed", "failed", "cancelled"].includes(p.state);
