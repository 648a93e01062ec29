"""The local runtime's one ASGI app: API gateway, object store, identity provider, web client."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from photosync.adapters.objectstore.local_disk import LocalDiskStore
from photosync.local.authorizer import JwtAuthorizer
from photosync.local.events import post_confirmation_event
from photosync.local.gateway import ROUTES, LocalGateway
from photosync.local.identity import LocalIdentityProvider
from photosync.local.lambda_runtime import LocalLambdaRuntime
from photosync.local.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from photosync.local.sign_in import DevSignIn, sign_in_routes
from photosync.local.store_endpoints import StoreEndpoints

LOCAL_USER_POOL_ID = "local_photosync"
FINALIZE_HANDLER = "photosync.handlers.finalize.handler"
POST_CONFIRMATION_HANDLER = "photosync.handlers.post_confirmation.handler"
CLEANUP_HANDLER = "photosync.handlers.cleanup.handler"
RENDITIONS_HANDLER = "photosync.handlers.renditions.handler"
# A readable page of the API's OpenAPI document (`GET /openapi.json`), shipped with the package.
API_DOCS_DIR = Path(__file__).resolve().parent / "docs"


# The web client hashes files with hash-wasm's SHA-256, a WebAssembly module compiled from bytes
# its own script file carries: 'wasm-unsafe-eval' allows compiling WebAssembly and nothing else (no
# eval, no inline script), and only the page's own scripts can ask for it.
WEB_SCRIPT_SOURCES = "'self' 'wasm-unsafe-eval'"


def web_content_security_policy(store_origin: str | None = None, *, script_sources: str = WEB_SCRIPT_SOURCES) -> str:
    """The web client's policy. The local store is this server ('self'); an S3-compatible store is
    another origin, which receives the uploads (connect-src) and serves thumbnails, previews and
    videos (img-src, media-src)."""
    store = f"'self' {store_origin}" if store_origin else "'self'"
    return (
        f"default-src 'self'; script-src {script_sources}; style-src 'self'; img-src {store} blob: data:; "
        f"media-src {store} blob:; connect-src {store}; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    )

# The phone app's web build differs in one point: react-native-web puts its styles into an empty
# <style> element it creates and fills through the CSSOM; only that empty element is allowed (this is
# the hash of the empty string), so no inline style with any content can run.
EMPTY_INLINE_STYLE = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"


def mobile_web_content_security_policy(store_origin: str | None = None) -> str:
    # The phone app runs no WebAssembly: its scripts get 'self' only.
    return web_content_security_policy(store_origin, script_sources="'self'").replace(
        "style-src 'self';", f"style-src 'self' {EMPTY_INLINE_STYLE};"
    )


class _SinglePageApp(StaticFiles):
    """An exported single-page app: a path that is no file is one of the app's routes, so it gets
    the app's index.html and the app's router shows the screen (a reload of /app/photos/123 works).
    A missing file with an extension (a script, an image) stays a 404."""

    def __init__(self, *, content_security_policy: str, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._content_security_policy = content_security_policy

    async def get_response(self, path: str, scope: Scope):
        try:
            response = await super().get_response(path, scope)
        except HTTPException as error:
            if error.status_code != 404 or "." in path.rsplit("/", 1)[-1]:
                raise
            response = await super().get_response("index.html", scope)
        response.headers["Content-Security-Policy"] = self._content_security_policy
        return response


class _SecurityHeaders:
    """Headers every response gets unless it set its own (the store sets a stricter policy)."""

    def __init__(self, app: ASGIApp, *, content_security_policy: str) -> None:
        self.app = app
        self._defaults = {
            "Content-Security-Policy": content_security_policy,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY",
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self._defaults.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_local_app(
    *,
    data_dir: Path,
    public_url: str,
    store: LocalDiskStore | None,
    runtime: LocalLambdaRuntime,
    store_origin: str | None = None,
    concurrency: int,
    dev_sign_in: DevSignIn,
    web_dir: Path | None,
    mobile_web_dir: Path | None = None,
) -> Starlette:
    identity = LocalIdentityProvider(data_dir, issuer=f"{public_url}/auth")
    authorizer = JwtAuthorizer(issuer=identity.issuer, client_id=identity.client_id, jwks=identity.jwks)
    gateway = LocalGateway(authorizer, runtime, concurrency=concurrency)
    finalize = runtime.function("finalize", FINALIZE_HANDLER)
    post_confirmation = runtime.function("post-confirmation", POST_CONFIRMATION_HANDLER)

    def provision(sub: str, email: str) -> None:
        post_confirmation.invoke(
            post_confirmation_event(user_pool_id=LOCAL_USER_POOL_ID, client_id=identity.client_id, sub=sub, email=email)
        )

    def metrics(_: Request) -> Response:
        # What CloudWatch would show from the functions' EMF output, for a Prometheus scraper.
        return Response(runtime.metrics.render(), media_type=METRICS_CONTENT_TYPE)

    api_paths = sorted({key.split(" ", 1)[1] for keys in ROUTES.values() for key in keys})
    routes: list[BaseRoute] = [
        Route("/metrics", metrics, methods=["GET"]),
        *sign_in_routes(identity, on_first_sign_in=provision, dev_sign_in=dev_sign_in),
        *(StoreEndpoints(store, finalize, runtime.metrics).routes() if store is not None else []),
        *(Route(path, gateway.handle, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]) for path in api_paths),
        Route("/docs", lambda _: RedirectResponse("/docs/"), methods=["GET"]),
        Mount("/docs", app=StaticFiles(directory=API_DOCS_DIR, html=True), name="api-docs"),
    ]
    if mobile_web_dir is not None:
        # The phone app's web build (`expo export --platform web` in mobile/), on the API's origin so
        # it needs no CORS and runs under the same strict CSP as the web client.
        mobile_app = _SinglePageApp(
            directory=mobile_web_dir, html=True,
            content_security_policy=mobile_web_content_security_policy(store_origin),
        )
        routes.append(Mount("/app", app=mobile_app, name="mobile-web"))
    policy = web_content_security_policy(store_origin)
    if web_dir is not None:
        # A public link's page, /s/{token}: the web client's index.html, whose relative script,
        # style and config URLs resolve below /s/ to the web client's own files.
        public_page = _SinglePageApp(directory=web_dir, html=True, content_security_policy=policy)
        routes.append(Mount("/s", app=public_page, name="web-public-links"))
        routes.append(Mount("/", app=StaticFiles(directory=web_dir, html=True), name="web"))
    return Starlette(routes=routes, middleware=[Middleware(_SecurityHeaders, content_security_policy=policy)])
