"""The local runtime's one ASGI app: API gateway, object store, identity provider, web client."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.datastructures import MutableHeaders
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
# A readable page of the API's OpenAPI document (`GET /openapi.json`), shipped with the package.
API_DOCS_DIR = Path(__file__).resolve().parent / "docs"


def web_content_security_policy(store_origin: str | None = None) -> str:
    """The web client's policy. The local store is this server ('self'); an S3-compatible store is
    another origin, which receives the uploads (connect-src) and serves thumbnails, previews and
    videos (img-src, media-src)."""
    store = f"'self' {store_origin}" if store_origin else "'self'"
    return (
        f"default-src 'self'; script-src 'self'; style-src 'self'; img-src {store} blob: data:; "
        f"media-src {store} blob:; connect-src {store}; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    )


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
        *(StoreEndpoints(store, finalize).routes() if store is not None else []),
        *(Route(path, gateway.handle, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]) for path in api_paths),
        Route("/docs", lambda _: RedirectResponse("/docs/"), methods=["GET"]),
        Mount("/docs", app=StaticFiles(directory=API_DOCS_DIR, html=True), name="api-docs"),
    ]
    if web_dir is not None:
        routes.append(Mount("/", app=StaticFiles(directory=web_dir, html=True), name="web"))
    policy = web_content_security_policy(store_origin)
    return Starlette(routes=routes, middleware=[Middleware(_SecurityHeaders, content_security_policy=policy)])
