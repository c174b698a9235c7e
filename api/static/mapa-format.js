// Small helpers shared by the map's modules: DOM building (text is always set with
// textContent, so nothing coming from the data is ever parsed as HTML), Chilean number
// formatting and JSON requests with the API's Spanish error messages.

const NUMBER = new Intl.NumberFormat("es-CL", { maximumFractionDigits: 2 });
const INTEGER = new Intl.NumberFormat("es-CL", { maximumFractionDigits: 0 });

/** Create an element; string children become text nodes, never HTML. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function formatNumber(value, decimals = 2) {
  if (decimals === 0) return INTEGER.format(value);
  return decimals === 2 ? NUMBER.format(value)
    : new Intl.NumberFormat("es-CL", { maximumFractionDigits: decimals }).format(value);
}

/** Is this value missing (null, empty text, empty list)? */
export function isEmpty(value) {
  return value === null || value === undefined || value === "" ||
    (Array.isArray(value) && value.length === 0);
}

/** The items of a list field: an array from the API, or "a; b" text from a vector tile. */
export function listItems(value) {
  if (Array.isArray(value)) return value;
  return String(value).split(";").map((s) => s.trim()).filter(Boolean);
}

/**
 * A value as a planner reads it, from its queryable schema: codes with their meaning,
 * numbers in Chilean format with their unit, money in pesos, lists as lists.
 * Returns a string, or an array of strings for list fields.
 */
export function formatValue(value, schema = {}) {
  if (isEmpty(value)) return "sin dato";
  if (schema.type === "array") return listItems(value).map((v) => formatValue(v, {}));
  const labels = schema["x-etiquetas"];
  if (labels && Object.hasOwn(labels, value)) return `${labels[value]} (${value})`;
  if (typeof value === "boolean") return value ? "Sí" : "No";
  const unit = schema["x-unidad"];
  if (typeof value === "number" || schema.type === "number" || schema.type === "integer") {
    const number = Number(value);
    if (!Number.isFinite(number)) return String(value);
    if (unit === "CLP") return `$ ${formatNumber(number, 0)}`;
    if (isYear(schema)) return String(number);
    return unit ? `${formatNumber(number)} ${unit}` : formatNumber(number);
  }
  return unit ? `${value} ${unit}` : String(value);
}

/** A year field (declared as an integer between 1800 and 2200): no thousands separator. */
function isYear(schema) {
  return schema.type === "integer" && !schema["x-unidad"] &&
    schema.minimum >= 1800 && schema.maximum <= 2200;
}

/** GET a JSON document; throws an Error with the API's Spanish description on failure. */
export async function getJSON(url) {
  let response;
  try {
    response = await fetch(url, { headers: { Accept: "application/json" } });
  } catch {
    throw new Error("No se pudo contactar al servidor de la plataforma.");
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const text = body && body.description ? body.description : `Error ${response.status}.`;
    const error = new Error(body && body.hint ? `${text} ${body.hint}` : text);
    error.status = response.status;
    throw error;
  }
  return body;
}

/** Show a short message over the map (errors, confirmations); it hides itself. */
export function notify(message, { seconds = 6 } = {}) {
  const box = document.getElementById("aviso");
  if (!box) return;
  box.replaceChildren(el("span", {}, message),
    el("button", { type: "button", class: "cerrar", "aria-label": "Cerrar aviso",
      onclick: () => { box.hidden = true; } }, "×"));
  box.hidden = false;
  clearTimeout(notify.timer);
  if (seconds) notify.timer = setTimeout(() => { box.hidden = true; }, seconds * 1000);
}
