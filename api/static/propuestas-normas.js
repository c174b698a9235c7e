// The norms of a zone: a form built from the zoning layer's queryables (its declared
// fields: Spanish titles, units, ranges and code lists), or a read-only table for those
// who cannot edit. Code lists become selects (one value) or checkbox lists (several:
// usos permitidos y prohibidos, agrupamiento, áreas de riesgo); numbers get their unit.

import { el, formatValue, isEmpty } from "./mapa-format.js";

const SKIP = new Set(["geom", "codigo"]);

/** The norm fields of the schema (queryables "properties"), in declared order. */
export function normFields(schema) {
  return Object.entries(schema).filter(([name]) => !SKIP.has(name));
}

function fieldId(prefix, name) {
  return `${prefix}-${name}`;
}

function numberInput(id, name, fieldSchema, value) {
  const input = el("input", {
    id, name, type: "number", inputmode: "decimal",
    step: fieldSchema.type === "integer" ? 1 : "any",
    min: fieldSchema.minimum, max: fieldSchema.maximum,
    value: isEmpty(value) ? "" : value,
  });
  const unit = fieldSchema["x-unidad"];
  return unit ? el("span", { class: "con-unidad" }, input, el("span", { class: "unidad" }, unit))
    : input;
}

function selectInput(id, name, choices, value) {
  return el("select", { id, name },
    el("option", { value: "" }, "sin dato"),
    ...choices.map((c) => el("option", { value: c, selected: c === value }, c)));
}

function checkboxList(id, name, choices, values) {
  const chosen = new Set(Array.isArray(values) ? values : []);
  return el("div", { id, class: "opciones", role: "group", "aria-labelledby": `${id}-titulo` },
    ...choices.map((c) =>
    el("label", { class: "opcion" },
      el("input", { type: "checkbox", name, value: c, checked: chosen.has(c) }), ` ${c}`)));
}

function control(prefix, name, fieldSchema, value) {
  const id = fieldId(prefix, name);
  if (fieldSchema.type === "array") {
    const choices = fieldSchema.items?.enum;
    return choices ? checkboxList(id, name, choices, value)
      : el("input", { id, name, value: Array.isArray(value) ? value.join("; ") : "",
        dataset: { lista: "si" } });
  }
  if (fieldSchema.enum) return selectInput(id, name, fieldSchema.enum, value);
  if (fieldSchema.type === "number" || fieldSchema.type === "integer") {
    return numberInput(id, name, fieldSchema, value);
  }
  return el("input", { id, name, value: isEmpty(value) ? "" : value, maxlength: 500 });
}

/** The value a control holds, as the API expects it (null when empty). */
function readValue(form, name, fieldSchema) {
  if (fieldSchema.type === "array") {
    const boxes = [...form.querySelectorAll(`input[type=checkbox][name="${CSS.escape(name)}"]`)];
    if (boxes.length) return boxes.filter((b) => b.checked).map((b) => b.value);
    const text = form.elements[name].value;
    return text.split(";").map((s) => s.trim()).filter(Boolean);
  }
  const raw = form.elements[name].value.trim();
  if (raw === "") return null;
  if (fieldSchema.type === "number" || fieldSchema.type === "integer") {
    return Number(raw.replace(",", "."));
  }
  return raw;
}

function same(a, b) {
  const norm = (v) => (Array.isArray(v) && v.length === 0 ? null : v ?? null);
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}

/**
 * A form with the norms of `zone` (its properties). On submit, calls
 * `onSubmit(changed)` with only the norms whose value changed, or with every value and
 * the code when `isNew` (a zone being created).
 */
export function normsForm(schema, zone, { isNew = false, onSubmit, onCancel, submitText }) {
  const prefix = isNew ? "nueva" : "norma";
  const rows = normFields(schema).map(([name, fieldSchema]) => {
    const input = control(prefix, name, fieldSchema, zone?.[name]);
    const label = fieldSchema.type === "array" && fieldSchema.items?.enum
      ? el("span", { class: "etiqueta", id: `${fieldId(prefix, name)}-titulo` }, fieldSchema.title)
      : el("label", { class: "etiqueta", for: fieldId(prefix, name) }, fieldSchema.title);
    return el("div", { class: "campo", dataset: { campo: name } }, label, input);
  });
  const code = isNew ? el("div", { class: "campo", dataset: { campo: "codigo" } },
    el("label", { class: "etiqueta", for: "nueva-codigo" }, "Código de la zona nueva"),
    el("input", { id: "nueva-codigo", name: "codigo", required: true, maxlength: 40,
      placeholder: "p. ej. ZH-9" })) : null;
  const form = el("form", { class: "formulario normas", novalidate: true },
    code, ...rows,
    el("div", { class: "fila-botones" },
      el("button", { type: "submit", class: "principal" }, submitText ?? "Guardar normas"),
      onCancel ? el("button", { type: "button", onclick: onCancel }, "Cancelar") : null));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = {};
    for (const [name, fieldSchema] of normFields(schema)) {
      const value = readValue(form, name, fieldSchema);
      if (isNew ? value !== null : !same(value, zone?.[name])) values[name] = value;
    }
    if (isNew) onSubmit({ codigo: form.elements.codigo.value.trim(), normas: values });
    else onSubmit(values);
  });
  return form;
}

/** The norms of a zone as a read-only table. */
export function normsTable(schema, zone) {
  return el("table", { class: "atributos" }, el("tbody", {},
    ...normFields(schema).map(([name, fieldSchema]) => {
      const value = formatValue(zone[name], fieldSchema);
      return el("tr", { dataset: { campo: name } },
        el("th", { scope: "row" }, fieldSchema.title ?? name),
        el("td", {}, Array.isArray(value) ? value.join(", ") || "sin dato" : value));
    })));
}
