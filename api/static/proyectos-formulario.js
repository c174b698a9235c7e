// The form that creates or edits a project: every field of the layer declaration (sent
// by the server in the page configuration: titles, choices, limits, units), the funding
// table (one row per source and year, four amounts) and the location drawn on the map.
// Values go to the API as typed (it reads Chilean numbers such as «1.500.000»); each
// problem the API reports ({campo, mensaje}) is shown next to its input.

import { el } from "./mapa-format.js";

const FUNDING = /^financiamiento\[(\d+)\](?:\.(\w+))?$/;

function problemBox(id) {
  return el("p", { class: "problema-campo", id: `problema-${id}`, role: "alert", hidden: true });
}

function input(field, value) {
  const id = `campo-${field.nombre}`;
  const common = { id, name: field.nombre, "aria-describedby": `problema-${field.nombre}`,
    required: field.obligatorio };
  const text = value === null || value === undefined ? "" : String(value);
  if (field.opciones) {
    return el("select", common,
      el("option", { value: "" }, field.obligatorio ? "Elija…" : "—"),
      ...field.opciones.map((o) => el("option", { value: o.valor, selected: o.valor === text },
        o.etiqueta)));
  }
  if (field.largo) {
    const area = el("textarea", { ...common, rows: 3, maxlength: field.largo_maximo });
    area.value = text;
    return area;
  }
  if (field.tipo === "fecha") return el("input", { ...common, type: "date", value: text });
  if (field.tipo === "entero" || field.tipo === "decimal") {
    return el("input", { ...common, type: "text", inputmode: "decimal", value: text,
      placeholder: [field.minimo, field.maximo].every((x) => x !== null)
        ? `${field.minimo} a ${field.maximo}` : "" });
  }
  const list = field.sugerencias ? `sugerencias-${field.nombre}` : undefined;
  return el("input", { ...common, type: "text", value: text, list,
    maxlength: field.nombre === "codigo" ? 40 : field.largo_maximo });
}

function fieldBlock(field, value, readOnly) {
  const control = input(field, value);
  if (readOnly) control.setAttribute("readonly", "");
  return el("div", { class: "campo-formulario", dataset: { campo: field.nombre } },
    el("label", { for: control.id }, field.titulo, field.obligatorio ? " *" : ""),
    field.unidad ? el("div", { class: "con-unidad" }, control,
      el("span", { class: "unidad" }, field.unidad)) : control,
    field.sugerencias ? el("datalist", { id: `sugerencias-${field.nombre}` },
      ...field.sugerencias.map((s) => el("option", { value: s }))) : null,
    problemBox(field.nombre));
}

/** The funding editor: rows of {fuente, anio, solicitado, aprobado, comprometido, ejecutado}. */
function fundingEditor(config, rows) {
  const list = el("div", { id: "editor-financiamiento", class: "editor-financiamiento" });
  let made = 0;

  function addRow(values = {}) {
    made += 1;
    const id = (column) => `financiamiento-${made}-${column}`;
    const labelled = (column, title, control) => el("div", { class: `celda celda-${column}` },
      el("label", { for: id(column) }, title), control);
    const row = el("div", { class: "fila-financiamiento", role: "group",
      "aria-label": "Fuente y año de financiamiento" },
    labelled("fuente", "Fuente", el("select", { id: id("fuente"), dataset: { columna: "fuente" } },
      el("option", { value: "" }, "Elija…"),
      ...config.fuentes.map((f) => el("option", { value: f.codigo, title: f.nombre,
        selected: f.codigo === values.fuente }, f.codigo)))),
    labelled("anio", "Año", el("input", { id: id("anio"), type: "text", inputmode: "numeric",
      maxlength: 4, dataset: { columna: "anio" }, value: values.anio ?? "" })),
    el("div", { class: "celda celda-quitar" }, el("button", { type: "button",
      class: "enlace quitar-fila", onclick: () => row.remove() }, "Quitar")),
    ...config.montos.map((a) => labelled(a.nombre, `${a.titulo} ($)`, el("input", {
      id: id(a.nombre), type: "text", inputmode: "decimal", dataset: { columna: a.nombre },
      value: values[a.nombre] ?? "" }))),
    el("p", { class: "problema-campo problema-fila", role: "alert", hidden: true }));
    list.append(row);
    return row;
  }

  for (const row of rows) addRow(row);
  if (!rows.length) addRow({});
  return {
    node: el("div", {}, list,
      el("div", { class: "fila-botones" }, el("button", { type: "button", id: "agregar-fila",
        onclick: () => addRow({}) }, "Agregar fuente o año")), problemBox("financiamiento")),
    /** The non-empty rows, with the element each one came from. */
    rows() {
      const out = [];
      for (const row of list.querySelectorAll(".fila-financiamiento")) {
        const values = {};
        for (const control of row.querySelectorAll("[data-columna]")) {
          const value = control.value.trim();
          values[control.dataset.columna] = value === "" ? null : value;
        }
        if (Object.values(values).some((v) => v !== null)) out.push({ values, row });
      }
      return out;
    },
  };
}

/**
 * Build the form in `container`. `project` is null for a new project. `onSubmit(body)`
 * receives the project as the API takes it (without the geometry, added by the caller).
 */
export function projectForm(container, config, project, { onSubmit, onCancel, drawingHelp }) {
  const editing = !!project;
  const values = project ?? {};
  const funding = fundingEditor(config, project?.financiamiento ?? []);
  const note = el("textarea", { id: "campo-nota", name: "nota", rows: 2, maxlength: 2000,
    "aria-describedby": "problema-nota" });
  const submit = el("button", { type: "submit", class: "principal", id: "guardar-proyecto" },
    editing ? "Guardar cambios" : "Crear proyecto");
  const general = el("ul", { id: "problemas-generales", class: "validacion", hidden: true });
  const form = el("form", { id: "form-proyecto", class: "formulario", novalidate: true },
    el("h2", {}, editing ? `Editar ${project.codigo}` : "Nuevo proyecto"),
    el("p", { class: "nota" }, "Los campos con * son obligatorios. Los montos van en pesos " +
      "y pueden escribirse como en Chile (1.500.000)."),
    general,
    el("fieldset", { class: "grupo" }, el("legend", {}, "Datos del proyecto"),
      ...config.campos.map((f) => fieldBlock(f, values[f.nombre],
        editing && f.nombre === "codigo"))),
    el("div", { class: "campo-formulario", dataset: { campo: "nota" } },
      el("label", { for: "campo-nota" }, "Nota del cambio de etapa (queda en el historial)"),
      note, problemBox("nota")),
    el("fieldset", { class: "grupo" }, el("legend", {}, "Financiamiento por fuente y año"),
      funding.node),
    el("fieldset", { class: "grupo", id: "grupo-ubicacion" }, el("legend", {}, "Ubicación"),
      el("p", { class: "nota" }, drawingHelp),
      el("p", { id: "estado-dibujo", class: "estado-dibujo", "aria-live": "polite" }),
      problemBox("geometria")),
    el("div", { class: "fila-botones" }, submit,
      el("button", { type: "button", id: "cancelar-edicion", onclick: onCancel }, "Cancelar")));
  container.replaceChildren(form);

  let sent = [];
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = {};
    for (const f of config.campos) {
      const value = form.elements[f.nombre].value.trim();
      body[f.nombre] = value === "" ? null : value;
    }
    sent = funding.rows();
    body.financiamiento = sent.map((r) => r.values);
    const text = note.value.trim();
    if (text) body.nota = text;
    onSubmit(body);
  });

  function clearProblems() {
    for (const box of form.querySelectorAll(".problema-campo")) {
      box.hidden = true;
      box.textContent = "";
    }
    for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
    general.hidden = true;
    general.replaceChildren();
  }

  function addTo(box, text) {
    box.textContent = box.textContent ? `${box.textContent} ${text}` : text;
    box.hidden = false;
  }

  function fundingProblem(index, column, text) {
    const row = sent[index - 1]?.row;
    if (!row) return false;
    const control = column && row.querySelector(`[data-columna="${column}"]`);
    control?.setAttribute("aria-invalid", "true");
    const title = config.montos.find((a) => a.nombre === column)?.titulo
      ?? { fuente: "Fuente", anio: "Año" }[column];
    addTo(row.querySelector(".problema-fila"), title ? `${title}: ${text}` : text);
    return true;
  }

  return {
    form,
    /** Show each problem next to its field; those without a place go on top. */
    showProblems(problems) {
      clearProblems();
      for (const { campo, mensaje } of problems) {
        const funded = FUNDING.exec(campo);
        if (funded && fundingProblem(Number(funded[1]), funded[2], mensaje)) continue;
        const box = form.querySelector(`#problema-${CSS.escape(funded ? "financiamiento" : campo)}`);
        if (box) {
          addTo(box, funded ? `Fila ${funded[1]}: ${mensaje}` : mensaje);
          form.querySelector(`#campo-${CSS.escape(campo)}`)?.setAttribute("aria-invalid", "true");
          continue;
        }
        general.append(el("li", { class: "problema" }, `${campo}: ${mensaje}`));
        general.hidden = false;
      }
      form.querySelector(".problema-campo:not([hidden]), #problemas-generales:not([hidden])")
        ?.scrollIntoView({ block: "center" });
    },
    clearProblems,
    setBusy(on) {
      submit.disabled = on;
    },
    setDrawingStatus(text) {
      form.querySelector("#estado-dibujo").textContent = text;
    },
  };
}
