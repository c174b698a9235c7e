// Who is logged in (header), the list of proposals with their state and conflicts, and
// the form that creates one (editors).

import { el } from "./mapa-format.js";
import { formatDate } from "./propuestas-revision.js";

const OPEN = ["borrador", "enviada", "en_revision", "aprobada"];
const STATE_TITLES = { en_revision: "en revisión" };

/** The login state in the header: who, with what role, and a way out (or in). */
export function renderSession(container) {
  const user = window.sesion.usuario();
  const here = window.location.pathname + window.location.search + window.location.hash;
  if (!user) {
    container.replaceChildren(el("span", {}, "No ha ingresado (solo consulta). "),
      el("a", { id: "ingresar", href: window.sesion.urlIngreso(here) }, "Ingresar"));
    return null;
  }
  container.replaceChildren(
    el("span", { id: "usuario-actual" },
      user.nombre ? `${user.nombre} (${user.usuario}) · ` : `${user.usuario} · `,
      el("span", { class: "rol" }, user.rol_titulo || user.rol)),
    el("button", { type: "button", id: "salir", onclick: () => {
      window.sesion.salir();
      window.location.reload();
    } }, "Salir"));
  return user;
}

/**
 * The proposals list. `onOpen(id)` opens one. Conflicts (other open proposals changing
 * the same zones) are read from each open proposal.
 */
export function proposalList(api, { onOpen }) {
  const list = document.getElementById("lista-propuestas");
  const filter = document.getElementById("filtro-estado");
  let current = null;

  async function conflictsOf(p) {
    if (!OPEN.includes(p.estado) || !p.cambios) return [];
    try {
      return (await api.get(p.id)).data.conflictos ?? [];
    } catch {
      return [];
    }
  }

  async function refresh() {
    let rows;
    try {
      rows = await api.list(filter.value || null);
    } catch (error) {
      list.replaceChildren(el("li", { class: "error" }, error.text ?? error.message));
      return;
    }
    const conflicts = await Promise.all(rows.propuestas.map(conflictsOf));
    list.replaceChildren(...(rows.propuestas.length ? rows.propuestas.map((p, i) => el("li", {
      class: `item-propuesta${p.id === current ? " actual" : ""}`,
      dataset: { id: p.id, estado: p.estado } },
    el("button", { type: "button", class: "enlace abrir", onclick: () => onOpen(p.id) },
      `${p.id}. ${p.titulo}`),
    el("span", { class: `estado estado-${p.estado}` }, STATE_TITLES[p.estado] ?? p.estado),
    el("span", { class: "nota" }, ` ${p.autor} · ${p.cambios} cambio(s) · ` +
      formatDate(p.actualizada)),
    conflicts[i].length ? el("span", { class: "conflicto" }, "Conflicto con " +
      conflicts[i].map((c) => `${c.id} (${c.zonas_comunes.join(", ")})`).join("; "))
      : null))
      : [el("li", { class: "nota" }, "No hay propuestas" +
        (filter.value ? " en ese estado." : " todavía."))]));
  }

  filter.addEventListener("change", refresh);
  return {
    refresh,
    setCurrent(id) {
      current = id;
      for (const item of list.querySelectorAll(".item-propuesta")) {
        item.classList.toggle("actual", Number(item.dataset.id) === id);
      }
    },
  };
}

/** The «Nueva propuesta» form, shown to editors (and admins). */
export function newProposalForm(api, user, { onCreated, message }) {
  const section = document.getElementById("seccion-nueva");
  const form = document.getElementById("form-nueva");
  section.hidden = !(user && ["editor", "admin"].includes(user.rol));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const { data } = await api.create(form.titulo.value.trim(),
        form.justificacion.value.trim());
      form.reset();
      section.open = false;
      message(`Propuesta ${data.id} creada: seleccione una zona para editarla.`, "exito");
      await onCreated(data.id);
    } catch (error) {
      message(error.text ?? error.message, "error");
    } finally {
      button.disabled = false;
    }
  });
}
