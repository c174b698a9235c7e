// The proposals API as the page uses it. Every request carries the session's token
// (sesion.fetch); every write to a proposal carries «If-Match» with the ETag of the
// version the user is looking at. Failures become an ApiError with the server's Spanish
// description and hint, its HTTP status and, for geometry problems, its "problemas".

export class ApiError extends Error {
  constructor(message, { status = 0, hint = "", code = "", problems = [] } = {}) {
    super(message);
    this.status = status;
    this.hint = hint;
    this.code = code;
    this.problems = problems;
  }

  /** The description followed by the hint, as one Spanish text. */
  get text() {
    return this.hint ? `${this.message} ${this.hint}` : this.message;
  }
}

async function request(url, { method = "GET", body, etag } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (etag) headers["If-Match"] = etag;
  let response;
  try {
    response = await window.sesion.fetch(url, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError("No se pudo contactar al servidor de la plataforma.");
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(data?.description ?? `Error ${response.status} del servidor.`, {
      status: response.status, hint: data?.hint ?? "", code: data?.code ?? "",
      problems: data?.problemas ?? [],
    });
  }
  return { data, etag: response.headers.get("ETag") };
}

async function read(url) {
  return (await request(url)).data;
}

/** The client of one page: `config` holds the URLs given by the server. */
export function proposalsApi(config) {
  const base = config.propuestas;
  const one = (id) => `${base}/${encodeURIComponent(id)}`;
  return {
    list: (estado) => read(estado ? `${base}?estado=${encodeURIComponent(estado)}` : base),
    get: (id) => request(one(id)),
    create: (titulo, justificacion) =>
      request(base, { method: "POST", body: { titulo, justificacion } }),
    change: (id, etag, operation) =>
      request(`${one(id)}/cambios`, { method: "POST", body: operation, etag }),
    undo: (id, etag) => request(`${one(id)}/cambios/ultimo`, { method: "DELETE", etag }),
    validation: (id) => read(`${one(id)}/validacion`),
    zoning: (id) => read(`${one(id)}/zonificacion`),
    diff: (id) => read(`${one(id)}/diferencias`),
    impact: (id) => read(`${one(id)}/impacto`),
    act: (id, etag, action, nota) => request(`${one(id)}/acciones/${action}`,
      { method: "POST", body: nota ? { nota } : undefined, etag }),
    comment: (id, nota) => request(`${one(id)}/comentarios`, { method: "POST", body: { nota } }),
    rebase: (id, etag) => request(`${one(id)}/rebase`, { method: "POST", etag }),
    apply: (id, etag) => request(`${one(id)}/aplicar`, { method: "POST", etag }),
    versionsDiff: (desde, hasta) =>
      read(`${config.versiones}?desde=${Number(desde)}&hasta=${Number(hasta)}`),
    history: () => read(config.historial),
    zoningAt: (instant) =>
      read(`${config.items}?limit=10000&datetime=${encodeURIComponent(instant)}`),
    queryables: () => read(config.queryables),
  };
}
