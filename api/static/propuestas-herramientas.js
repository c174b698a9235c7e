// The editing tools of an open draft proposal (toolbar over the map and its panel):
// each tool turns what the user draws or picks into one operation of the proposals API
// (dividir, geometria, crear, fusionar, eliminar) and hands it to `ctx.submit`.
//
// ctx: { map, draw, layers, panel, toolbar, schema(), selection(), select(codes),
//        submit(operation, codesToSelect) → Promise<boolean>, message(text, kind) }

import { el } from "./mapa-format.js";
import { freeCode, largestPolygon, neighbours, toolHelp } from "./propuestas-dibujo.js";
import { normsForm } from "./propuestas-normas.js";

const NEEDS_ZONE = { dividir: "dividir", redibujar: "redibujar", eliminar: "eliminar" };

export function editingTools(ctx) {
  const { map, draw, layers, panel, toolbar } = ctx;
  let tool = "seleccionar";
  let editedId = null; // terra-draw feature of «redibujar» or of a drawn new zone
  let enabled = false;

  function pressed(name) {
    for (const b of toolbar.querySelectorAll("[data-herramienta]")) {
      b.setAttribute("aria-pressed", String(b.dataset.herramienta === name));
    }
  }

  function clearDrawing() {
    draw.clear();
    editedId = null;
    draw.setMode("static");
  }

  function showPanel(nodes) {
    panel.replaceChildren(...(nodes ?? []));
    panel.hidden = !nodes;
    if (nodes) panel.scrollIntoView({ block: "nearest" });
  }

  const cancelButton = () => el("button", { type: "button", dataset: { accion: "cancelar" },
    onclick: () => setTool("seleccionar") }, "Cancelar");

  /** Switch tool; the ones acting on a zone need one selected first. */
  function setTool(name) {
    clearDrawing();
    const selected = ctx.selection();
    if (NEEDS_ZONE[name] && selected.length !== 1) {
      ctx.message(`Seleccione primero la zona que quiere ${NEEDS_ZONE[name]} (clic en la ` +
        "zona, con la herramienta Seleccionar).", "aviso");
      name = "seleccionar";
    }
    tool = name;
    pressed(name);
    document.body.dataset.herramienta = name;
    const start = { seleccionar: startSelect, dividir: startSplit, redibujar: startReshape,
      crear: startCreate, fusionar: startMerge, eliminar: startDelete }[name];
    start(selected[0]);
  }

  function startSelect() {
    showPanel(null);
  }

  function startSplit(code) {
    const input = el("input", { id: "nuevo-codigo", maxlength: 40, required: true,
      value: freeCode(layers.zones(), code) });
    showPanel(toolHelp(`Dividir la zona ${code}`,
      "Dibuje una línea que cruce la zona de un borde a otro: un clic en cada vértice " +
      "(se ajustan a los vértices y bordes de las zonas); para terminar, un clic de nuevo " +
      "en el último punto o la tecla Entrar. La parte menor pasa a la zona nueva, con las " +
      "mismas normas.",
      el("label", { for: "nuevo-codigo" }, "Código de la zona nueva"), input,
      el("div", { class: "fila-botones" }, cancelButton())));
    draw.setMode("linestring");
  }

  async function finishSplit(id) {
    const code = ctx.selection()[0];
    const geometry = draw.getSnapshotFeature(id)?.geometry;
    const newCode = document.getElementById("nuevo-codigo")?.value.trim();
    draw.clear();
    draw.setMode("linestring");
    if (!newCode) {
      ctx.message("Escriba el código de la zona nueva antes de dibujar la línea.", "error");
      return;
    }
    const done = await ctx.submit({ op: "dividir", codigo: code, nuevo_codigo: newCode,
      geometria: geometry }, [newCode]);
    if (done) setTool("seleccionar");
  }

  function startReshape(code) {
    const zone = layers.zone(code);
    const { polygons, index } = largestPolygon(zone?.geometry);
    if (!polygons.length) return setTool("seleccionar");
    editedId = draw.getFeatureId();
    draw.setMode("select");
    const [result] = draw.addFeatures([{ id: editedId, type: "Feature",
      geometry: { type: "Polygon", coordinates: [polygons[index][0]] },
      properties: { mode: "polygon" } }]);
    if (!result?.valid) {
      ctx.message(`No se puede editar la forma de ${code} en el mapa ` +
        `(${result?.reason ?? "geometría no admitida"}).`, "error");
      return setTool("seleccionar");
    }
    draw.selectFeature(editedId);
    const save = el("button", { type: "button", class: "principal", dataset: { accion: "guardar-forma" },
      onclick: async () => {
        const edited = draw.getSnapshotFeature(editedId)?.geometry.coordinates[0];
        if (!edited) return;
        if (JSON.stringify(edited) === JSON.stringify(polygons[index][0])) {
          ctx.message("La forma no cambió: arrastre algún vértice antes de guardar.", "aviso");
          return;
        }
        const parts = polygons.map((p, i) => (i === index ? [edited, ...p.slice(1)] : p));
        const geometry = parts.length === 1 ? { type: "Polygon", coordinates: parts[0] }
          : { type: "MultiPolygon", coordinates: parts };
        if (await ctx.submit({ op: "geometria", codigo: code, geometria: geometry }, [code])) {
          setTool("seleccionar");
        }
      } }, "Guardar la forma");
    showPanel(toolHelp(`Redibujar la zona ${code}`,
      "Arrastre los vértices: se ajustan a los vértices y bordes de las zonas vecinas. " +
      "Arrastre un punto medio para agregar un vértice; clic derecho sobre un vértice " +
      "para quitarlo. Las zonas vecinas no se mueven: ajuste también sus bordes o " +
      "deje que la validación muestre superposiciones y vacíos en rojo.",
      el("div", { class: "fila-botones" }, save, cancelButton())));
  }

  function startCreate() {
    showPanel(toolHelp("Nueva zona",
      "Dibuje el polígono de la zona nueva: un clic en cada vértice (se ajustan a las " +
      "zonas existentes); para cerrarlo, clic en el primer punto o tecla Entrar. La zona " +
      "nueva toma su superficie de las zonas que cubre.",
      el("div", { class: "fila-botones" }, cancelButton())));
    draw.setMode("polygon");
  }

  function finishCreate(id) {
    editedId = id;
    draw.setMode("static");
    const geometry = draw.getSnapshotFeature(id)?.geometry;
    const ring = geometry.coordinates[0];
    const inside = ring.slice(0, -1).reduce((s, c) => [s[0] + c[0], s[1] + c[1]], [0, 0])
      .map((v) => v / (ring.length - 1));
    const under = layers.zoneAt(map.project(inside));
    const template = under ? layers.zone(under)?.properties : null;
    const form = normsForm(ctx.schema(), template, { isNew: true,
      submitText: "Crear la zona",
      onCancel: () => setTool("seleccionar"),
      onSubmit: async ({ codigo, normas }) => {
        if (!codigo) {
          ctx.message("Escriba el código de la zona nueva.", "error");
          return;
        }
        if (await ctx.submit({ op: "crear", codigo, normas, geometria: geometry }, [codigo])) {
          setTool("seleccionar");
        }
      } });
    showPanel([el("h3", {}, "Normas de la zona nueva"),
      el("p", { class: "nota" }, template ? `Se proponen las normas de ${under}, la zona ` +
        "bajo el centro del polígono; cámbielas según corresponda."
        : "Complete las normas de la zona."), form]);
  }

  function mergePanel() {
    const codes = ctx.selection();
    const target = el("select", { id: "codigo-fusion" },
      ...codes.map((c) => el("option", { value: c }, c)));
    const go = el("button", { type: "button", class: "principal", disabled: codes.length < 2,
      dataset: { accion: "fusionar" },
      onclick: async () => {
        if (await ctx.submit({ op: "fusionar", codigos: codes, codigo: target.value },
          [target.value])) setTool("seleccionar");
      } }, `Fusionar ${codes.length} zonas`);
    showPanel(toolHelp("Fusionar zonas",
      "Haga clic en las zonas contiguas que quiere unir (otro clic la quita). La zona " +
      "resultante conserva las normas de la que elija aquí.",
      el("p", {}, codes.length ? `Zonas: ${codes.join(", ")}` : "Ninguna zona elegida."),
      el("label", { for: "codigo-fusion" }, "Código y normas de la zona resultante"), target,
      el("div", { class: "fila-botones" }, go, cancelButton())));
  }

  function startMerge() {
    mergePanel();
  }

  function startDelete(code) {
    const options = neighbours(layers.zones(), code);
    const target = el("select", { id: "destino-eliminar" },
      el("option", { value: "" }, "la vecina con más borde común"),
      ...options.map((c) => el("option", { value: c }, c)));
    const go = el("button", { type: "button", class: "principal peligro",
      dataset: { accion: "eliminar" },
      onclick: async () => {
        const destino = target.value || null;
        if (await ctx.submit({ op: "eliminar", codigo: code, destino },
          destino ? [destino] : [])) setTool("seleccionar");
      } }, `Eliminar ${code}`);
    showPanel(toolHelp(`Eliminar la zona ${code}`,
      "La superficie de la zona pasa a una zona vecina.",
      el("label", { for: "destino-eliminar" }, "Zona que recibe la superficie"), target,
      el("div", { class: "fila-botones" }, go, cancelButton())));
  }

  map.on("click", (event) => {
    if (!enabled && tool !== "seleccionar") return;
    if (!["seleccionar", "fusionar", "eliminar"].includes(tool)) return;
    const code = layers.zoneAt(event.point);
    if (tool === "fusionar") {
      if (!code) return;
      const codes = ctx.selection();
      ctx.select(codes.includes(code) ? codes.filter((c) => c !== code) : [...codes, code]);
      mergePanel();
      return;
    }
    ctx.select(code ? [code] : []);
    if (tool === "eliminar") setTool(code ? "eliminar" : "seleccionar");
  });

  draw.on("finish", (id, context) => {
    if (context?.action && context.action !== "draw") return;
    if (tool === "dividir" && context.mode === "linestring") finishSplit(id);
    else if (tool === "crear" && context.mode === "polygon") finishCreate(id);
  });

  for (const b of toolbar.querySelectorAll("[data-herramienta]")) {
    b.addEventListener("click", () => setTool(b.dataset.herramienta));
  }

  return {
    /** Show or hide the editing toolbar (only for the author of a draft). */
    enable(on) {
      enabled = on;
      toolbar.hidden = !on;
      if (!on || tool !== "seleccionar") setTool("seleccionar");
    },
    current: () => tool,
    reset: () => setTool("seleccionar"),
  };
}
