// The project registry API as the projects page uses it. Every request carries the
// session's token (sesion.fetch); every change to a project carries «If-Match» with the
// ETag of the version the user opened. Failures become an ApiError (shared with the
// proposals page) with the server's Spanish description and hint, its HTTP status and,
// for a project that cannot be saved, its «problemas» [{campo, mensaje}].

import { ApiError } from "./propuestas-api.js";

export { ApiError };

async function request(url, { method = "GET", body, etag, form } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (etag) headers["If-Match"] = etag;
  let response;
  try {
    response = await window.sesion.fetch(url, {
      method, headers, body: form ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
  } catch {
    throw new ApiError("No se pudo contactar al servidor de la plataforma.");
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(data?.description ?? `Error ${response.status} del servidor.`, {
      status: response.status, hint: data?.hint ?? "", code: data?.code ?? "",
      problems: Array.isArray(data?.problemas) ? data.problemas : [],
    });
  }
  return { data, etag: response.headers.get("ETag") };
}

/** The client of the page: `base` is the URL of /proyectos given by the server. */
export function projectsApi(base) {
  const one = (codigo) => `${base}/${encodeURIComponent(codigo)}`;
  return {
    /** Summary rows, filtered by {sector, etapa, fuente, q} (empty values left out). */
    async list(filters = {}) {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(filters)) if (value) params.set(key, value);
      const query = params.toString();
      return (await request(query ? `${base}?${query}` : base)).data.proyectos;
    },
    get: (codigo) => request(one(codigo)),
    profile: async (codigo) => (await request(`${one(codigo)}/perfil`)).data,
    create: (project) => request(base, { method: "POST", body: project }),
    update: (codigo, etag, project) =>
      request(one(codigo), { method: "PUT", body: project, etag }),
    remove: (codigo, etag) => request(one(codigo), { method: "DELETE", etag }),
    attach(codigo, file, descripcion) {
      const form = new FormData();
      form.append("archivo", file);
      if (descripcion) form.append("descripcion", descripcion);
      return request(`${one(codigo)}/adjuntos`, { method: "POST", form });
    },
    fichaUrl: (codigo) => `${one(codigo)}/ficha`,
    fichaPdfUrl: (codigo) => `${one(codigo)}/ficha.pdf`,
  };
}
