"""The web client: the built single-page app in ``frontend/dist``, served by Django itself.

It is served by the same ASGI application as the API (under Daphne in production, see
``coordination/server.py``), so one process and one origin serve the app, the API and the
WebSocket: the session cookie, CSRF token and ``connect-src 'self'`` just work.

- ``index.html`` for every client route (``/``, ``/login``, ``/rooms/...``, ``/cases/...``,
  ``/measurements/...``, ``/wound-sites/...``, ``/notifications``, ``/settings``, ``/p/<token>``):
  ``Cache-Control: no-cache`` (revalidated on every load, so a deploy is picked up at once) and
  a strict Content-Security-Policy fitting a Vite build (scripts and styles from this origin
  only, photos as ``blob:``/``data:`` images, connections to this origin over HTTP and
  WebSocket).
- ``/assets/<name>``: Vite's content-hashed files, cached for a year (``immutable``).
- Files at the root of the build (``/sw.js``, ``/manifest.webmanifest``, icons): ``no-cache``;
  the service worker is served from the root, so its scope is the whole app.

Text files are gzipped once and kept in memory (keyed by the file's size and modification
time), for clients that accept it. Without a build, the client routes answer a page saying how
to make one (``make frontend``); the API, ``/ws/``, ``/admin/`` and ``/health`` do not depend
on it.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.urls import URLPattern, path, re_path
from django.utils.cache import patch_vary_headers
from django.utils.html import escape
from django.views.decorators.http import require_safe

ASSET_CACHE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

# Content types Python's mimetypes may not know, or gets wrong on some systems.
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".txt": "text/plain; charset=utf-8",
    ".wasm": "application/wasm",
}
COMPRESSIBLE = {".js", ".mjs", ".css", ".html", ".json", ".webmanifest", ".svg", ".txt", ".ico"}
# Smaller files are sent as they are: gzip would save less than its own headers cost.
GZIP_MIN_BYTES = 1024

# Files at the root of the build that are served at the root of the site.
ROOT_FILE = r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*\.(?:js|webmanifest|png|svg|ico|txt|webp))"
# Vite's hashed files (flat under assets/ with this project's config; sub-folders allowed).
ASSET_FILE = r"(?P<name>[A-Za-z0-9_][A-Za-z0-9._/-]*)"


def dist_dir() -> Path:
    """Where the built client is: ``WEBCLIENT_DIST`` if set, else ``frontend/dist``."""
    configured = getattr(settings, "WEBCLIENT_DIST", None)
    return Path(configured) if configured else Path(settings.BASE_DIR) / "frontend" / "dist"


def content_security_policy(request: HttpRequest) -> str:
    """A strict policy for the Vite build: nothing inline, nothing from elsewhere."""
    host = request.get_host()
    websocket = f"wss://{host}" if request.is_secure() else f"ws://{host}"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' blob: data:",
            "media-src 'self' blob:",
            "font-src 'self'",
            f"connect-src 'self' {websocket}",
            "worker-src 'self'",
            "manifest-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


@dataclass(frozen=True)
class _File:
    body: bytes
    gzipped: bytes | None
    content_type: str
    etag: str


_cache: dict[Path, tuple[tuple[int, int], _File]] = {}
_cache_lock = threading.Lock()


def _load(file: Path) -> _File | None:
    """The file's bytes (and gzipped bytes), from memory while it is unchanged on disk."""
    try:
        stat = file.stat()
    except OSError:
        return None
    if not file.is_file():
        return None
    key = (stat.st_size, stat.st_mtime_ns)
    with _cache_lock:
        cached = _cache.get(file)
    if cached and cached[0] == key:
        return cached[1]
    body = file.read_bytes()
    suffix = file.suffix.lower()
    gzipped = None
    if suffix in COMPRESSIBLE and len(body) >= GZIP_MIN_BYTES:
        compressed = gzip.compress(body, compresslevel=9, mtime=0)
        gzipped = compressed if len(compressed) < len(body) else None
    content_type = CONTENT_TYPES.get(suffix) or (
        mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    )
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    loaded = _File(body, gzipped, content_type, etag)
    with _cache_lock:
        _cache[file] = (key, loaded)
    return loaded


def _accepts_gzip(request: HttpRequest) -> bool:
    accepted = request.headers.get("Accept-Encoding", "")
    for part in accepted.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in {"gzip", "*"}:
            return params.replace(" ", "") not in {"q=0", "q=0.0", "q=0.00", "q=0.000"}
    return False


def _serve(request: HttpRequest, file: _File, cache_control: str) -> HttpResponse:
    if request.headers.get("If-None-Match") == file.etag:
        response: HttpResponse = HttpResponseNotModified()
    else:
        body = file.body
        response = HttpResponse(content_type=file.content_type)
        if file.gzipped is not None:
            patch_vary_headers(response, ["Accept-Encoding"])
            if _accepts_gzip(request):
                body = file.gzipped
                response["Content-Encoding"] = "gzip"
        response.content = b"" if request.method == "HEAD" else body
        response["Content-Length"] = str(len(body))
    response["ETag"] = file.etag
    response["Cache-Control"] = cache_control
    return response


def _inside(root: Path, name: str) -> Path | None:
    """``root/name`` if it stays inside ``root`` (no ``..``, no absolute path)."""
    if ".." in name.split("/") or name.startswith("/"):
        return None
    candidate = (root / name).resolve()
    return candidate if candidate.is_relative_to(root.resolve()) else None


MISSING_BUILD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Web client not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto;
padding: 0 1rem; line-height: 1.5; color: #1b2a30">
<h1>The web client is not built</h1>
<p>The server is running, but it has no web client to serve: <code>{dist}</code> is missing.</p>
<p>Build it (Node.js 20 or later and npm are needed), then reload this page:</p>
<pre style="background: #eef3f5; padding: 0.75rem 1rem">make frontend</pre>
<p><code>make run</code> builds it before serving. The API (<a href="/api/docs">/api/docs</a>)
works without it.</p>
</body></html>
"""


@require_safe
def index(request: HttpRequest, **kwargs: str) -> HttpResponse:
    """The app's ``index.html`` for a client route; the client's router does the rest."""
    dist = dist_dir()
    file = _load(dist / "index.html")
    if file is None:
        response = HttpResponse(
            MISSING_BUILD.format(dist=escape(str(dist))),
            status=503,
            content_type="text/html; charset=utf-8",
        )
        response["Cache-Control"] = "no-store"
        return response
    response = _serve(request, file, REVALIDATE)
    response["Content-Security-Policy"] = content_security_policy(request)
    if request.path.startswith("/p/"):
        # The patient's token is in the address: never send it on, not even to this origin.
        response["Referrer-Policy"] = "no-referrer"
    return response


@require_safe
def asset(request: HttpRequest, name: str) -> HttpResponse:
    """A content-hashed file of the build: cached for a year."""
    target = _inside(dist_dir() / "assets", name)
    file = _load(target) if target else None
    if file is None:
        raise Http404("No such asset.")
    return _serve(request, file, ASSET_CACHE)


@require_safe
def root_file(request: HttpRequest, name: str) -> HttpResponse:
    """A file at the root of the build (service worker, manifest, icons): revalidated."""
    target = _inside(dist_dir(), name)
    file = _load(target) if target else None
    if file is None:
        raise Http404("No such file.")
    # The service worker is at the root, so its scope is the whole app without
    # Service-Worker-Allowed.
    return _serve(request, file, REVALIDATE)


# The client's routes (src/router.tsx); anything else outside /api/ stays Django's 404.
CLIENT_ROUTES = [
    r"^$",
    r"^login/?$",
    r"^rooms/.+$",
    r"^cases/.+$",
    r"^measurements/.+$",
    r"^wound-sites/.+$",
    r"^notifications/?$",
    r"^settings/?$",
    r"^p/[^/]+/?$",
]


def urlpatterns() -> list[URLPattern]:
    """The web client's URL patterns, to follow the API's, ``/health`` and ``/admin/``."""
    patterns = [re_path(route, index) for route in CLIENT_ROUTES]
    patterns.append(re_path(rf"^assets/{ASSET_FILE}$", asset))
    patterns.append(re_path(rf"^{ROOT_FILE}$", root_file))
    patterns.append(path("index.html", index))
    return patterns
