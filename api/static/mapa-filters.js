// Filters of the investment projects (stage, funding source, year, sector) applied as
// MapLibre filter expressions on the projects' style layers. The fields come from the
// page configuration, their titles and choices from the layer's queryables (the
// declared fields), so nothing here names a stage or a source.

import { el } from "./mapa-format.js";
import { styleLayersOf } from "./mapa-layers.js";

const ALL = "";

/** The choices of a field: its enum, or its items' enum for a list field (fuentes). */
const choicesOf = (schema) => schema.enum ?? schema.items?.enum;

/** Equality with a choice; a list field is "a; b" text in the tiles: one of its items. */
function matches(name, schema, value) {
  if (schema.type !== "array") return ["==", ["to-string", ["get", name]], value];
  return ["in", `; ${value};`, ["concat", "; ", ["to-string", ["get", name]], ";"]];
}

function choiceField(name, schema, onChange) {
  const select = el("select", { name, id: `filtro-${name}`, onchange: onChange },
    el("option", { value: ALL }, "Cualquiera"),
    ...choicesOf(schema).map((value) => el("option", { value }, value)));
  return el("div", { class: "campo" }, el("label", { for: select.id }, schema.title), select);
}

function rangeField(name, schema, onChange) {
  const bound = (which, label) => el("label", { class: "rango" }, label, el("input", {
    type: "number", name: `${name}-${which}`, id: `filtro-${name}-${which}`, step: 1,
    min: schema.minimum, max: schema.maximum, inputmode: "numeric", onchange: onChange }));
  return el("fieldset", { class: "campo" }, el("legend", {}, schema.title),
    bound("desde", "desde "), bound("hasta", "hasta "));
}

/**
 * Build the filter form of `layer` and return its state accessors:
 * `get()` → {campo: valor | "desde-hasta"}, `set(state)` applies a saved state.
 */
export function buildFilters(map, form, layer, fields, schema, { onChange = () => {} }) {
  const targets = styleLayersOf(map, layer).map((l) => ({ id: l.id, base: l.filter }));
  const status = el("p", { class: "nota", "aria-live": "polite" });
  const apply = () => {
    const conditions = [];
    for (const name of fields) {
      const field = schema[name] ?? {};
      if (choicesOf(field)) {
        const value = form.elements[name].value;
        if (value !== ALL) conditions.push(matches(name, field, value));
      } else {
        const from = form.elements[`${name}-desde`].value;
        const to = form.elements[`${name}-hasta`].value;
        if (from !== "") conditions.push([">=", ["to-number", ["get", name]], Number(from)]);
        if (to !== "") conditions.push(["<=", ["to-number", ["get", name]], Number(to)]);
      }
    }
    for (const { id, base } of targets) {
      map.setFilter(id, conditions.length ? ["all", base ?? true, ...conditions] : base);
    }
    status.textContent = conditions.length
      ? `${conditions.length === 1 ? "Un filtro activo" : `${conditions.length} filtros activos`}.`
      : "Sin filtros: se muestran todos los proyectos.";
    onChange();
  };
  const controls = fields.filter((name) => schema[name]).map((name) => (choicesOf(schema[name])
    ? choiceField(name, schema[name], apply) : rangeField(name, schema[name], apply)));
  form.replaceChildren(...controls,
    el("div", { class: "acciones" }, el("button", { type: "reset" }, "Quitar filtros")),
    status);
  form.addEventListener("reset", () => setTimeout(apply));
  form.addEventListener("submit", (event) => event.preventDefault());
  apply();

  return {
    get() {
      const state = {};
      for (const name of fields) {
        if (!schema[name]) continue;
        if (choicesOf(schema[name])) {
          if (form.elements[name].value !== ALL) state[name] = form.elements[name].value;
        } else {
          const from = form.elements[`${name}-desde`].value;
          const to = form.elements[`${name}-hasta`].value;
          if (from !== "" || to !== "") state[name] = `${from}-${to}`;
        }
      }
      return state;
    },
    set(state) {
      for (const name of fields) {
        if (!schema[name]) continue;
        const value = state[name] ?? "";
        if (choicesOf(schema[name])) {
          form.elements[name].value = choicesOf(schema[name]).includes(value) ? value : ALL;
        } else {
          const [from = "", to = ""] = value.split("-");
          form.elements[`${name}-desde`].value = /^\d+$/.test(from) ? from : "";
          form.elements[`${name}-hasta`].value = /^\d+$/.test(to) ? to : "";
        }
      }
      apply();
    },
  };
}
