/*
 * The browser session of the platform, shared by every page.
 *
 *   sesion.token()             the access token, or null (none, or expired)
 *   sesion.usuario()           {usuario, nombre, rol, rol_titulo}, or null
 *   sesion.fetch(url, opts)    fetch() with «Authorization: Bearer <token>» added
 *   sesion.salir()             forget the session (this tab)
 *   sesion.ingresar(u, clave)  log in (POST /auth/token, then GET /auth/yo)
 *   sesion.urlIngreso(next)    the login page's URL, coming back to `next`
 *   sesion.exigir()            go to the login page when there is no session
 *
 * The token lives in sessionStorage (this tab only, gone when it closes). A cookie with
 * the same token lets the server accept page and tile reads when it requires login for
 * reading; the server never accepts that cookie for writes.
 */
(function (global) {
  "use strict";

  var KEY = "secplac.sesion";
  var COOKIE = "secplac_token";

  function leer() {
    try {
      return JSON.parse(global.sessionStorage.getItem(KEY));
    } catch (e) {
      return null;
    }
  }

  function guardarCookie(token, segundos) {
    var seguro = global.location.protocol === "https:" ? "; Secure" : "";
    global.document.cookie = COOKIE + "=" + encodeURIComponent(token) + "; Max-Age=" +
      Math.max(0, Math.floor(segundos)) + "; Path=/; SameSite=Strict" + seguro;
  }

  async function error(respuesta) {
    var texto = "Error " + respuesta.status + ".";
    try {
      var cuerpo = await respuesta.json();
      texto = [cuerpo.description, cuerpo.hint].filter(Boolean).join(" ") || texto;
    } catch (e) { /* not JSON */ }
    var err = new Error(texto);
    err.status = respuesta.status;
    return err;
  }

  var sesion = {
    token: function () {
      var s = leer();
      if (!s || !s.token) return null;
      if (s.expira && Date.now() >= s.expira) {
        sesion.salir();
        return null;
      }
      return s.token;
    },

    usuario: function () {
      return sesion.token() ? (leer().usuario || null) : null;
    },

    fetch: function (url, opts) {
      opts = Object.assign({}, opts || {});
      var cabeceras = new Headers(opts.headers || {});
      var token = sesion.token();
      if (token && !cabeceras.has("Authorization")) {
        cabeceras.set("Authorization", "Bearer " + token);
      }
      opts.headers = cabeceras;
      return global.fetch(url, opts);
    },

    salir: function () {
      global.sessionStorage.removeItem(KEY);
      guardarCookie("", 0);
    },

    ingresar: async function (usuario, clave) {
      var datos = new URLSearchParams({ username: usuario, password: clave });
      var r = await global.fetch("/auth/token", { method: "POST", body: datos });
      if (!r.ok) throw await error(r);
      var t = await r.json();
      var yo = await global.fetch("/auth/yo", {
        headers: { Authorization: "Bearer " + t.access_token },
      });
      if (!yo.ok) throw await error(yo);
      var s = {
        token: t.access_token,
        expira: Date.now() + (t.expires_in - 5) * 1000,
        usuario: await yo.json(),
      };
      global.sessionStorage.setItem(KEY, JSON.stringify(s));
      guardarCookie(t.access_token, t.expires_in);
      return s.usuario;
    },

    urlIngreso: function (next) {
      var destino = next || global.location.pathname + global.location.search;
      return "/ingresar?next=" + encodeURIComponent(destino);
    },

    exigir: function () {
      if (sesion.token()) return true;
      global.location.assign(sesion.urlIngreso());
      return false;
    },
  };

  global.sesion = sesion;
})(window);
