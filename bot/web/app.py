"""The FastAPI application: wiring of engine, storage, guards, the chat page and the API docs."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from bot.config import Settings
from bot.engine import Advisor
from bot.storage import Store
from bot.web.api import router
from bot.web.guards import CSP, RateLimiter, SecurityHeaders, script_hash
from retrieval.index import PassageIndexError

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("advisor.web")


def create_app(settings: Settings, advisor: Advisor | None = None, store: Store | None = None,
               warm_up: bool = True) -> FastAPI:
    """One app per process; the engine and its models are shared by every request."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if warm_up:
            try:
                app.state.advisor.warm_up()
            except PassageIndexError as exc:  # /readyz reports it; questions get a 503 with the reason
                log.error("index not ready: %s", exc)
        yield

    app = FastAPI(title="subsidy-advisor", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="補助金・支援事業について、登録資料の該当箇所を引用して答えるAPI。")
    app.state.advisor = advisor or Advisor(settings)
    app.state.store = store or Store(settings.database)
    app.state.limiter = RateLimiter(settings.rate_limit, settings.rate_limit_storage)
    app.include_router(router)
    if settings.slack_http_enabled:  # both SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET: serve /slack/events
        from bot.slack.http import mount

        mount(app, settings, app.state.advisor, app.state.store)
    _state_question_limit(app, settings.max_question_chars)
    _add_errors(app)
    _add_pages(app)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Content-Type"])
    app.add_middleware(SecurityHeaders, csp=CSP)
    return app


def _state_question_limit(app: FastAPI, limit: int) -> None:
    """Write the configured question length limit into the OpenAPI schema, so clients can see it."""
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            schema["components"]["schemas"]["ChatRequest"]["properties"]["question"]["maxLength"] = limit
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema


def _add_errors(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return JSONResponse({"detail": "リクエスト本文がJSONとして読めません。 (Malformed JSON body.)"}, 400)
        where = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'body'}: {e.get('msg')}"
                          for e in errors[:5])
        return JSONResponse({"detail": f"入力が正しくありません。 (Invalid input: {where})",
                             "errors": [{"loc": list(e.get("loc", ())), "msg": e.get("msg")} for e in errors[:20]]},
                            422)

    @app.exception_handler(PassageIndexError)
    async def not_ready(request: Request, exc: PassageIndexError) -> JSONResponse:
        log.error("index unavailable: %s", exc)
        return JSONResponse({"detail": f"索引が利用できません。しばらくしてからお試しください。 ({exc})"}, 503)


def _add_pages(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    @app.get("/programs", include_in_schema=False)
    def programs_page() -> FileResponse:
        return FileResponse(STATIC / "programs.html", media_type="text/html; charset=utf-8")

    docs_assets = _swagger_assets()
    if docs_assets is None:
        return
    app.mount("/docs-assets", StaticFiles(directory=docs_assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        html = get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title="subsidy-advisor API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon.png")
        body = bytes(html.body).decode("utf-8")
        script = body.rsplit("<script>", 1)[1].split("</script>", 1)[0]
        csp = CSP.replace("script-src 'self'", f"script-src 'self' {script_hash(script)}")
        return HTMLResponse(body, headers={"Content-Security-Policy": csp})


def _swagger_assets() -> Path | None:
    """Swagger UI's files from the fastapi-offline package, so /docs needs no CDN."""
    try:
        import fastapi_offline
    except ImportError:
        return None
    return Path(fastapi_offline.__file__).parent / "static"
