// The search box: rol, address, project code or name, through GET /buscar. Results are
// listed as they are typed; choosing one zooms the map to it, switches its layer on and
// opens its card.

import { el, getJSON } from "./mapa-format.js";

const DELAY_MS = 250;

function resultItem(hit, index, choose) {
  const detail = hit.coincidencia !== hit.etiqueta
    ? `${hit.titulo_capa} · ${hit.titulo_campo}: ${hit.coincidencia}` : hit.titulo_capa;
  return el("li", { role: "option", id: `resultado-${index}`, "aria-selected": "false",
    dataset: { capa: hit.capa, fid: hit.fid },
    onmousedown: (event) => event.preventDefault(),
    onclick: () => choose(hit) },
  el("strong", {}, hit.etiqueta), el("span", { class: "detalle" }, detail));
}

/**
 * Wire the search form. `onSelect(hit)` is called with the chosen result (fields of
 * GET /buscar: capa, fid, etiqueta, bbox...).
 */
export function enableSearch(config, form, { onSelect }) {
  const input = form.querySelector("input[type=search]");
  const list = form.querySelector(".resultados");
  let hits = [];
  let active = -1;
  let timer = null;
  let sequence = 0;

  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    active = -1;
  };
  const choose = (hit) => {
    close();
    input.value = hit.etiqueta;
    onSelect(hit);
  };
  const mark = (index) => {
    const items = [...list.children];
    items.forEach((item, i) => item.setAttribute("aria-selected", String(i === index)));
    active = index;
    if (items[index]) {
      input.setAttribute("aria-activedescendant", items[index].id);
      items[index].scrollIntoView({ block: "nearest" });
    }
  };
  const show = (items) => {
    list.replaceChildren(...items);
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  };

  const run = async () => {
    const text = input.value.trim();
    if (!text) {
      close();
      return;
    }
    const mine = ++sequence;
    try {
      const doc = await getJSON(`${config.buscar}?q=${encodeURIComponent(text)}&limite=10`);
      if (mine !== sequence) return;
      hits = doc.resultados;
      active = -1;
      show(hits.length ? hits.map((h, i) => resultItem(h, i, choose))
        : [el("li", { class: "sin-resultados" }, `Sin resultados para «${text}».`)]);
    } catch (error) {
      if (mine !== sequence) return;
      hits = [];
      show([el("li", { class: "error" }, error.message)]);
    }
  };

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(run, DELAY_MS);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" && hits.length) {
      event.preventDefault();
      mark(Math.min(active + 1, hits.length - 1));
    } else if (event.key === "ArrowUp" && hits.length) {
      event.preventDefault();
      mark(Math.max(active - 1, 0));
    } else if (event.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (active >= 0 && hits[active]) {
      choose(hits[active]);
      return;
    }
    clearTimeout(timer);
    await run();
    if (hits.length === 1) choose(hits[0]);
  });
}
