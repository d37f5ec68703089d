"""The console's routes: thin, like the Telegram handlers: check, call the desk once, render.

Every route goes through `guarded` (role on the server, CSRF on POST) except the login routes, which
check Telegram's signature instead and are rate limited.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from desk import candidate_phrasings, search, staff, views
from desk.service import Desk
from knowledge import KnowledgeError, editing
from reports import (
    PeriodError,
    Requester,
    UsageError,
    export_logs,
    make_report,
    parse_log_args,
    parse_period,
    parse_report_args,
)
from reports.filters import ACTORS, DIRECTIONS, FORMATS
from reports.labels import duration_text
from webconsole.access import (
    ConsoleConfig,
    LocalLogin,
    Role,
    User,
    client_of,
    csrf_token,
    current_user,
    form_text,
    guarded,
    sign_in,
)
from webconsole.auth import AttemptLimiter, LoginRefused, check_init_data, check_widget
from webconsole.labels import (
    LANGUAGES,
    history_lines,
    label,
    names,
    queue_lines,
    time_left,
    when,
)

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
SESSION_COOKIE = "desk_console"
SESSION_HOURS = 12
SEARCH_LIMIT = 50
CHARTS_KEPT = 8
UNANSWERED_DAYS, UNANSWERED_MAX_DAYS, UNANSWERED_SHOWN = 30, 366, 50


def console_app(desk: Desk, config: ConsoleConfig, local: LocalLogin | None = None) -> Starlette:
    """The web console as an ASGI app, to be mounted (at /console) in the desk's web server."""
    templates = Jinja2Templates(directory=HERE / "templates")
    limiter = AttemptLimiter(config.login_attempts_per_minute, 60.0)
    staff_only = guarded(config, Role.STAFF)
    managers_only = guarded(config, Role.MANAGER)

    def render(request: Request, name: str, user: User | None, status: int = 200, **values: Any) -> Response:
        language = language_of(request)
        now = desk.context.clock()
        context = {
            "user": user,
            "csrf": csrf_token(request),
            "lang": language,
            "t": lambda key: label(key, language),
            "tag_names": names("tag", language),
            "when": lambda moment: when(moment, config.zone, language),
            "left": lambda due: time_left(due, now, language),
            "now": now,
            "config": config,
            # One URL built per page, not one per row (url_for walks the routes every time).
            "customers_url": str(request.url_for("customers")),
            **values,
        }
        return templates.TemplateResponse(request, name, context, status_code=status)

    # --- signing in -------------------------------------------------------------------------------

    async def login_page(request: Request) -> Response:
        if current_user(request, config) is not None:
            return RedirectResponse(request.url_for("queue"), status_code=303)
        return render(request, "login.html", None, refused=request.query_params.get("refused"))

    def _limited(request: Request) -> Response | None:
        if limiter.allow(client_of(request)):
            return None
        log.warning("console: login attempts from %s limited", client_of(request))
        return render(request, "login.html", None, status=429, refused="too_many")

    def _admit(request: Request, user_id: int, name: str) -> Response:
        if config.role_of(user_id) == Role.NONE:
            log.warning("console: sign-in refused for user %s (not staff)", user_id)
            return render(request, "login.html", None, status=403, refused="login_refused")
        sign_in(request, user_id=user_id, name=name)
        log.info("console: user %s signed in", user_id)
        return RedirectResponse(request.url_for("queue"), status_code=303)

    async def login_widget(request: Request) -> Response:
        """The Login Widget's redirect: its signed fields arrive in the query."""
        if (limited := _limited(request)) is not None:
            return limited
        try:
            person = check_widget(dict(request.query_params), config.token)
        except LoginRefused as exc:
            log.warning("console: widget sign-in refused (%s)", exc)
            return render(request, "login.html", None, status=403, refused="login_refused")
        return _admit(request, person.id, person.name)

    async def login_webapp(request: Request) -> Response:
        """A Mini App posts `Telegram.WebApp.initData`; answered in JSON, the page then goes to the queue."""
        if _limited(request) is not None:
            return JSONResponse({"ok": False, "error": "too many attempts"}, status_code=429)
        form = await request.form()
        try:
            person = check_init_data(form_text(form, "init_data", 8192), config.token)
        except LoginRefused as exc:
            log.warning("console: Mini App sign-in refused (%s)", exc)
            return JSONResponse({"ok": False, "error": "refused"}, status_code=403)
        if config.role_of(person.id) == Role.NONE:
            log.warning("console: Mini App sign-in refused for user %s (not staff)", person.id)
            return JSONResponse({"ok": False, "error": "not staff"}, status_code=403)
        sign_in(request, user_id=person.id, name=person.name)
        return JSONResponse({"ok": True, "next": str(request.url_for("queue"))})

    async def login_local(request: Request) -> Response:
        """The one-time link printed in the terminal in console mode."""
        if (limited := _limited(request)) is not None:
            return limited
        if not config.local_login or local is None or not local.redeem(request.query_params.get("key", "")):
            return render(request, "login.html", None, status=403, refused="login_refused")
        sign_in(request, user_id=None, name="本机 local", local=True)
        return RedirectResponse(request.url_for("queue"), status_code=303)

    @staff_only
    async def logout(request: Request, user: User) -> Response:
        request.session.clear()
        return RedirectResponse(request.url_for("login"), status_code=303)

    async def switch_language(request: Request) -> Response:
        language = request.query_params.get("to", "zh")
        request.session["lang"] = language if language in LANGUAGES else "zh"
        back = request.headers.get("referer") or str(request.url_for("queue"))
        return RedirectResponse(back if back.startswith(str(request.base_url)) else request.url_for("queue"), 303)

    # --- the queue ----------------------------------------------------------------------------------

    @staff_only
    async def queue_page(request: Request, user: User) -> Response:
        return render(request, "queue.html", user, **await _queue(request))

    @staff_only
    async def queue_rows(request: Request, user: User) -> Response:
        """The queue's rows alone, polled by the page every few seconds."""
        return render(request, "queue_rows.html", user, **await _queue(request))

    async def _queue(request: Request) -> dict[str, Any]:
        items = await desk.run(views.queue, desk.context)
        language = language_of(request)
        return {
            "lines": queue_lines(items, desk.context.clock(), config.zone, language),
            "key_label": label("key_customer", language),
            "unassigned": label("unassigned", language),
            "priority_names": names("priority", language),
        }

    # --- a customer's conversation --------------------------------------------------------------------

    @staff_only
    async def conversation_page(request: Request, user: User) -> Response:
        customer_id = request.path_params["customer_id"]
        raw_before = request.query_params.get("before", "")
        before = int(raw_before) if raw_before.isdigit() and len(raw_before) < 19 else None
        shown = await desk.run(views.conversation, desk.context, customer_id, before=before)
        if shown is None:
            return render(request, "not_found.html", user, status=404)
        lines = history_lines(shown.items, config.zone, language_of(request))
        return render(request, "conversation.html", user, c=shown, lines=lines, done=request.query_params.get("done"))

    @staff_only
    async def reply(request: Request, user: User) -> Response:
        """A staff reply typed on the page: recorded and sent through the outbox like one typed in the topic."""
        customer_id = request.path_params["customer_id"]
        text = form_text(await request.form(), "text", desk.context.max_text_chars)
        if text:
            queued = await desk.run(staff.reply_from_page, desk.context, user.who, customer_id, text)
            desk.submit(queued)
        return _back_to(request, customer_id)

    @staff_only
    async def command(request: Request, user: User) -> Response:
        """Take, release, resolve, note, tag… from the page: the topic's commands, run for this customer."""
        customer_id = request.path_params["customer_id"]
        form = await request.form()
        result = await desk.run(
            staff.run_page_command, desk.context, user.who, customer_id, form_text(form, "command", 16),
            form_text(form, "argument", 2000),
        )  # fmt: skip
        desk.submit(result.outbox)
        return _back_to(request, customer_id, result.topic_text)

    def _back_to(request: Request, customer_id: int, done: str | None = None) -> Response:
        url = request.url_for("conversation", customer_id=customer_id)
        if request.headers.get("x-requested-with") == "fetch":
            return JSONResponse({"ok": True, "done": done})
        return RedirectResponse(url.include_query_params(done=done) if done else url, status_code=303)

    @staff_only
    async def customers_page(request: Request, user: User) -> Response:
        search, tag = request.query_params.get("q", ""), request.query_params.get("tag", "")
        rows = await desk.run(views.customers, search, tag)
        return render(request, "customers.html", user, rows=rows, q=search, tag=tag)

    # --- search across conversations ------------------------------------------------------------------

    @staff_only
    async def search_page(request: Request, user: User) -> Response:
        """The desk's /search on a page: words and an optional period, newest first, each hit opens its customer."""
        words = request.query_params.get("q", "").strip()[:200]
        period = request.query_params.get("period", "").strip()[:64]
        values = {"q": words, "period": period, "snippet": search.snippet, "found": None}
        if period:
            try:
                parse_period(period, config.zone, today=desk.context.clock().astimezone(config.zone).date())
            except PeriodError as exc:
                return render(request, "search.html", user, 400, error=str(exc), **values)
        if words:
            # The desk's /search reads a last word that is a period as the period: the same function here.
            argument = f"{words} {period}" if period else words
            values["found"] = await desk.run(search.search, desk.context, argument, SEARCH_LIMIT)
        return render(request, "search.html", user, **values)

    # --- reports: the report's figures and charts, and the log export -----------------------------------

    # The charts of the last few reports drawn, by their export id, for the page's <img> to fetch.
    charts: OrderedDict[int, list[bytes]] = OrderedDict()

    def _reports(request: Request, user: User, status: int = 200, **values: Any) -> Response:
        return render(request, "reports.html", user, status, actors=ACTORS, directions=DIRECTIONS, formats=FORMATS,
                      duration=duration_text, **values)  # fmt: skip

    @managers_only
    async def reports_page(request: Request, user: User) -> Response:
        """The export form; with `?period=` also the report for it, as `/report PERIOD` sends it."""
        if "period" not in request.query_params:
            return _reports(request, user)
        asked = form_text(request.query_params, "period", 64)
        try:
            period = parse_report_args([asked] if asked else [], config.zone)
        except UsageError as exc:
            return _reports(request, user, 400, asked=asked, report_error=str(exc))
        requester = Requester("web", user_id=user.user_id, name=user.name)

        def entry_title(entry_id: str) -> str | None:
            entry = desk.kb.get(entry_id)
            return entry.question if entry else None

        with tempfile.TemporaryDirectory(prefix="console-report-") as folder:
            made = await asyncio.to_thread(
                make_report, desk.store, period, folder=Path(folder), requester=requester, entry_title=entry_title
            )
            charts[made.export_id] = [path.read_bytes() for path in made.charts]
        while len(charts) > CHARTS_KEPT:
            charts.popitem(last=False)
        log.info("console: user %s drew the report for %s", user.user_id, period.label)
        return _reports(request, user, asked=asked, report=made, chart_count=len(made.charts))

    @managers_only
    async def chart(request: Request, user: User) -> Response:
        """One chart of a report drawn on the page, as PNG."""
        drawn = charts.get(request.path_params["export_id"])
        index = request.path_params["index"]
        if drawn is None or not 0 <= index < len(drawn):
            return Response("gone: draw the report again", status_code=404, media_type="text/plain")
        return Response(drawn[index], media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})

    @managers_only
    async def export(request: Request, user: User) -> Response:
        """The `/logs` export with the same filters, downloaded; recorded in the exports audit as any pull."""
        form = await request.form()
        words = [form_text(form, "period", 64)] if form_text(form, "period", 64) else []
        for key in ("customer", "tag", "intent", "ticket", "actor", "direction", "format"):
            value = form_text(form, key, 200)
            if value:
                words.append(f"{key}={value.replace(' ', '')}")
        try:
            log_filter = parse_log_args(words, config.zone)
        except UsageError as exc:
            error = str(exc)
            return _reports(request, user, 400, error=error)
        folder = Path(tempfile.mkdtemp(prefix="console-logs-"))
        requester = Requester("web", user_id=user.user_id, name=user.name)
        try:
            pulled = await asyncio.to_thread(
                export_logs, desk.store, log_filter, zone=config.zone, folder=folder, requester=requester
            )
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        log.info("console: user %s exported %d log rows (%s)", user.user_id, pulled.rows, pulled.format)
        return FileResponse(
            pulled.path, filename=pulled.path.name, background=BackgroundTask(shutil.rmtree, folder, True),
            headers={"X-Export-Rows": str(pulled.rows)},
        )  # fmt: skip

    # --- knowledge: candidate phrasings ---------------------------------------------------------------

    @managers_only
    async def knowledge_page(request: Request, user: User) -> Response:
        candidates = await desk.run(views.candidates, desk.context)
        # The days back for the unanswered questions, as `/unanswered 30` and `review unanswered --days 30` take.
        raw_days = request.query_params.get("days", "").strip().removesuffix("d")
        days = min(max(int(raw_days), 1), UNANSWERED_MAX_DAYS) if raw_days.isdigit() else UNANSWERED_DAYS
        period = parse_period(f"{days}d", config.zone, today=desk.context.clock().astimezone(config.zone).date())
        unanswered = await desk.run(candidate_phrasings.unanswered, period, UNANSWERED_SHOWN)
        return render(request, "knowledge.html", user, candidates=candidates, unanswered=unanswered, days=days,
                      done=request.query_params.get("done"))  # fmt: skip

    @managers_only
    async def decide(request: Request, user: User) -> Response:
        """Accept (into the entry's file, then reload) or reject a candidate, as /accept and /reject do."""
        candidate_id, verdict = request.path_params["candidate_id"], request.path_params["verdict"]
        if verdict not in ("accept", "reject"):
            return JSONResponse({"ok": False, "error": "accept or reject"}, status_code=404)
        accept = verdict == "accept"
        try:
            text, changed = await desk.run(
                candidate_phrasings.decide,
                desk.context,
                config.kb_paths,
                candidate_id,
                accept,
                user.who,
                desk.context.clock(),
            )
        except candidate_phrasings.DecisionFailed as exc:
            text, changed = f"没有加入：{exc}", False
        if changed:
            text += "\n" + await desk.reload_knowledge(config.kb_paths, config.thresholds)
        url = request.url_for("knowledge").include_query_params(done=text)
        return RedirectResponse(url, status_code=303)

    # --- knowledge: the entry editor ----------------------------------------------------------------------

    # One edit of the knowledge files at a time (the shared reload follows each).
    editing_files = asyncio.Lock()

    @managers_only
    async def entry_page(request: Request, user: User) -> Response:
        entry_id = request.query_params.get("id", "").strip()[:64] or request.path_params.get("entry_id", "")
        try:
            entry = await asyncio.to_thread(editing.entry_for_editing, config.kb_paths, entry_id) if entry_id else None
        except KnowledgeError as exc:
            return render(request, "entry.html", user, 409, entry=None, entry_id=entry_id, problems=exc.problems)
        status = 404 if entry_id and entry is None else 200
        return render(request, "entry.html", user, status, entry=entry, entry_id=entry_id, problems=(),
                      done=request.query_params.get("done"))  # fmt: skip

    @managers_only
    async def save_entry(request: Request, user: User) -> Response:
        """Write the edited question, answer and alternates into the entry's YAML file, then reload for everyone;
        an edit that would not load is shown with its file, entry and field, and nothing is written."""
        entry_id = request.path_params["entry_id"]
        form = await request.form()
        question, answer = form_text(form, "question", 2000), form_text(form, "answer", 20_000)
        alternates = form_text(form, "alternates", 20_000).splitlines()
        async with editing_files:
            try:
                path = await asyncio.to_thread(
                    editing.edit_entry, config.kb_paths, entry_id, question=question, answer=answer,
                    alternates=alternates,
                )  # fmt: skip
            except editing.EditRefused as exc:
                log.info("console: user %s edit of entry %s refused (%d problems)", user.user_id, entry_id,
                         len(exc.problems))  # fmt: skip
                shown = editing.EditableEntry(entry_id, Path(), question, answer, tuple(alternates), True)
                return render(request, "entry.html", user, 422, entry=shown, entry_id=entry_id, problems=exc.problems)
            reloaded = await desk.reload_knowledge(config.kb_paths, config.thresholds)
        log.info("console: user %s edited entry %s in %s", user.user_id, entry_id, path.name)
        url = request.url_for("entry", entry_id=entry_id).include_query_params(done=reloaded)
        return RedirectResponse(url, status_code=303)

    async def home(request: Request) -> Response:
        return RedirectResponse(request.url_for("queue"), status_code=303)

    routes = [
        Route("/", home),
        Route("/login", login_page, name="login"),
        Route("/login/telegram", login_widget, name="login_widget"),
        Route("/login/webapp", login_webapp, methods=["POST"], name="login_webapp"),
        Route("/login/local", login_local, name="login_local"),
        Route("/logout", logout, methods=["POST"], name="logout"),
        Route("/lang", switch_language, name="lang"),
        Route("/queue", queue_page, name="queue"),
        Route("/queue/rows", queue_rows, name="queue_rows"),
        Route("/customers", customers_page, name="customers"),
        Route("/customers/{customer_id:int}", conversation_page, name="conversation"),
        Route("/customers/{customer_id:int}/reply", reply, methods=["POST"], name="reply"),
        Route("/customers/{customer_id:int}/command", command, methods=["POST"], name="command"),
        Route("/search", search_page, name="search"),
        Route("/reports", reports_page, name="reports"),
        Route("/reports/charts/{export_id:int}/{index:int}.png", chart, name="chart"),
        Route("/reports/logs", export, methods=["POST"], name="export"),
        Route("/knowledge", knowledge_page, name="knowledge"),
        Route("/knowledge/entries", entry_page, name="entries"),
        Route("/knowledge/entries/{entry_id:str}", entry_page, name="entry"),
        Route("/knowledge/entries/{entry_id:str}/save", save_entry, methods=["POST"], name="save_entry"),
        Route("/knowledge/{candidate_id:int}/{verdict:str}", decide, methods=["POST"], name="decide"),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]
    session = Middleware(
        SessionMiddleware,
        secret_key=config.session_secret,
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_HOURS * 3600,
        same_site="lax",
        https_only=config.https_only,
    )
    return Starlette(routes=routes, middleware=[session])


def language_of(request: Request) -> str:
    language = request.session.get("lang")
    return language if language in LANGUAGES else "zh"
