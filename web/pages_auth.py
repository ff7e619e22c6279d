"""Login with password and TOTP, enrolment, logout, language choice and password change."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from server.people import totp
from server.people.appkeys import ACCOUNTS, SESSIONS
from server.people.models import User
from server.people.sessions import COOKIE_NAME
from server.people.staff_actor import staff_actor
from server.platform.appkeys import DATABASE, SETTINGS
from server.platform.errors import AuthenticationFailed, RateLimited, ValidationFailed
from web import i18n
from web.client_address import client_address
from web.context import ctx
from web.forms import form_fields
from web.guards import require_actor
from web.messages import message_for
from web.navigation import start_page
from web.render import render
from web.safe_next import safe_next


def _set_session_cookie(response: web.StreamResponse, token: str, request: web.Request) -> None:
    settings = request.app[SETTINGS]
    response.set_cookie(COOKIE_NAME, token, path="/", secure=True, httponly=True, samesite="Lax",
                        max_age=settings.session_lifetime_minutes * 60)


async def index(request: web.Request) -> web.StreamResponse:
    actor = ctx(request).actor
    raise web.HTTPSeeOther(start_page(actor) if actor else "/login")


async def login_form(request: web.Request) -> web.StreamResponse:
    if ctx(request).actor is not None:
        raise web.HTTPSeeOther(start_page(ctx(request).actor))  # type: ignore[arg-type]
    return render(request, "login.html", {
        "values": {}, "errors": {}, "form_error": "", "next": request.query.get("next", ""),
    })


async def login_submit(request: web.Request) -> web.StreamResponse:
    fields = await form_fields(request)
    username = fields.get("username", "")
    password = fields.get("password", "")
    next_page = safe_next(fields.get("next"))
    errors: dict[str, str] = {}
    if not username.strip():
        errors["username"] = "required"
    if not password:
        errors["password"] = "required"
    form_error = ""
    retry_after: str | None = None
    if not errors:
        db = request.app[DATABASE]
        failure: AuthenticationFailed | RateLimited | None = None
        async with db.session() as session:
            # Caught inside the unit of work: a refused login is an answer, not an error to roll back.
            try:
                outcome = await request.app[ACCOUNTS].check_password(
                    session, username, password, client=client_address(request))
            except (AuthenticationFailed, RateLimited) as exc:
                failure = exc
            else:
                done = not outcome.needs_totp and not outcome.needs_enrolment
                old = ctx(request).session_token
                if old:
                    await request.app[SESSIONS].end(session, old)
                token, _row = await request.app[SESSIONS].create(
                    session, user_id=outcome.user.id, language=ctx(request).language, second_factor_done=done,
                )
                if done:
                    await request.app[ACCOUNTS].record_login(session, outcome.user)
        if failure is not None:
            form_error = message_for(failure.code)
            if isinstance(failure, RateLimited):
                retry_after = str(failure.retry_after_seconds)
        else:
            if done:
                target = next_page or start_page(staff_actor(outcome.user))
            else:
                target = "/login/enrol" if outcome.needs_enrolment else "/login/totp"
                if next_page:
                    target += "?" + urlencode({"next": next_page})
            redirect = web.HTTPSeeOther(target)
            _set_session_cookie(redirect, token, request)
            raise redirect
    status = 429 if retry_after else (401 if form_error else 422)
    response = render(request, "login.html", {
        "values": {"username": username}, "errors": {k: message_for(v) for k, v in errors.items()},
        "form_error": form_error, "next": next_page or "",
    }, status=status)
    if retry_after:
        response.headers["Retry-After"] = retry_after
    return response


def _pending_user(request: web.Request) -> User:
    c = ctx(request)
    if c.user is None or c.session is None:
        raise web.HTTPSeeOther("/login")
    if c.actor is not None:
        raise web.HTTPSeeOther(start_page(c.actor))
    return c.user


async def totp_form(request: web.Request) -> web.StreamResponse:
    user = _pending_user(request)
    if not user.totp_confirmed:
        raise web.HTTPSeeOther("/login/enrol")
    return render(request, "login_totp.html", {"errors": {}, "next": request.query.get("next", "")})


async def totp_submit(request: web.Request) -> web.StreamResponse:
    user = _pending_user(request)
    fields = await form_fields(request)
    next_page = safe_next(fields.get("next"))
    db = request.app[DATABASE]
    failure: AuthenticationFailed | RateLimited | None = None
    async with db.session() as session:
        fresh = await request.app[ACCOUNTS].get_user(session, user.id)
        try:
            await request.app[ACCOUNTS].check_totp(session, fresh, fields.get("code", ""))
        except (AuthenticationFailed, RateLimited) as exc:
            failure = exc  # caught inside the unit of work so the counted failure commits
        else:
            token = await _promote_session(request, session, fresh)
    if failure is None:
        response = web.HTTPSeeOther(next_page or start_page(staff_actor(fresh)))
        _set_session_cookie(response, token, request)
        raise response
    error = message_for(failure.code)
    status = 429 if isinstance(failure, RateLimited) else 401
    return render(request, "login_totp.html", {"errors": {"code": error}, "next": next_page or ""},
                  status=status)


async def _promote_session(request: web.Request, session: AsyncSession, user: User) -> str:
    """Mark the second factor as done: a new token, so a stolen half-login token is worthless."""
    old = ctx(request).session_token
    if old:
        await request.app[SESSIONS].end(session, old)
    token, _row = await request.app[SESSIONS].create(
        session, user_id=user.id, language=ctx(request).language, second_factor_done=True,
    )
    await request.app[ACCOUNTS].record_login(session, user)
    return token


async def enrol_form(request: web.Request) -> web.StreamResponse:
    user = _pending_user(request)
    if user.totp_confirmed:
        raise web.HTTPSeeOther("/login/totp")
    db = request.app[DATABASE]
    async with db.session() as session:
        fresh = await request.app[ACCOUNTS].get_user(session, user.id)
        secret = request.app[ACCOUNTS].pending_secret(fresh)
        if secret is None:
            secret = await request.app[ACCOUNTS].start_enrolment(session, fresh)
    uri = totp.provisioning_uri(secret, user.username)
    return render(request, "login_enrol.html", {
        "qr_svg": totp.qr_svg(uri), "secret": secret, "errors": {}, "next": request.query.get("next", ""),
    })


async def enrol_submit(request: web.Request) -> web.StreamResponse:
    user = _pending_user(request)
    fields = await form_fields(request)
    next_page = safe_next(fields.get("next"))
    db = request.app[DATABASE]
    try:
        async with db.session() as session:
            fresh = await request.app[ACCOUNTS].get_user(session, user.id)
            await request.app[ACCOUNTS].confirm_enrolment(session, fresh, fields.get("code", ""))
            token = await _promote_session(request, session, fresh)
    except ValidationFailed:
        async with db.session() as session:
            fresh = await request.app[ACCOUNTS].get_user(session, user.id)
            secret = request.app[ACCOUNTS].pending_secret(fresh) or ""
        uri = totp.provisioning_uri(secret, user.username)
        return render(request, "login_enrol.html", {
            "qr_svg": totp.qr_svg(uri), "secret": secret, "errors": {"code": message_for("totp_failed")},
            "next": next_page or "",
        }, status=422)
    response = web.HTTPSeeOther(next_page or start_page(staff_actor(fresh)))
    _set_session_cookie(response, token, request)
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    token = ctx(request).session_token
    if token:
        async with request.app[DATABASE].session() as session:
            await request.app[SESSIONS].end(session, token)
    response = web.HTTPSeeOther("/login")
    # Browsers ignore a __Host- cookie deletion unless it carries the same attributes.
    response.del_cookie(COOKIE_NAME, path="/", secure=True, httponly=True, samesite="Lax")
    raise response


async def set_language(request: web.Request) -> web.StreamResponse:
    fields = await form_fields(request)
    lang = fields.get("lang", "")
    if lang not in i18n.LANGUAGES:
        raise ValidationFailed("unknown language", {"lang": "invalid_choice"})
    row = ctx(request).session
    if row is not None:
        async with request.app[DATABASE].session() as session:
            await request.app[SESSIONS].set_language(session, row.token_hash, lang)
    actor = ctx(request).actor
    response = web.HTTPSeeOther(safe_next(fields.get("next")) or (start_page(actor) if actor else "/login"))
    response.set_cookie("lang", lang, path="/", secure=True, httponly=True, samesite="Lax",
                        max_age=365 * 24 * 3600)
    raise response


async def account_page(request: web.Request) -> web.StreamResponse:
    require_actor(request)
    return render(request, "account.html", {"errors": {}, "saved": request.query.get("saved") == "1"})


async def change_password(request: web.Request) -> web.StreamResponse:
    actor = require_actor(request)
    fields = await form_fields(request)
    errors: dict[str, str] = {}
    token = ""
    if fields.get("new_password", "") != fields.get("repeat_password", ""):
        errors["repeat_password"] = message_for("passwords_differ")
    else:
        try:
            async with request.app[DATABASE].session() as session:
                assert actor.user_id is not None
                user = await request.app[ACCOUNTS].get_user(session, actor.user_id)
                await request.app[ACCOUNTS].change_password(
                    session, user, fields.get("old_password", ""), fields.get("new_password", ""))
                # Every other browser of this user is logged out; this one continues on a new token.
                token, _row = await request.app[SESSIONS].restart_for_user(
                    session, user.id, ctx(request).language)
        except ValidationFailed as exc:
            errors = {k: message_for(v) for k, v in exc.fields.items()}
    if errors:
        return render(request, "account.html", {"errors": errors, "saved": False}, status=422)
    response = web.HTTPSeeOther("/account?saved=1")
    _set_session_cookie(response, token, request)
    raise response
