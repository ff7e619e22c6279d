"""Importing staff from a CSV file in the pages: check the file first (every problem listed, by row and
column, nothing changed), then import the checked file in one go."""

from __future__ import annotations

from aiohttp import web
from aiohttp.web_request import FileField

from server.people.appkeys import STAFF_IMPORT
from server.people.staff_import import COLUMNS, MAX_BYTES, ImportResult
from server.platform.appkeys import DATABASE
from server.platform.roles import Role
from web.guards import require_actor
from web.messages import message_for
from web.render import render


def _view(result: ImportResult) -> list[dict[str, str | int]]:
    return [{"row": p.row, "column": p.column, "message": message_for(p.code)} for p in result.problems]


async def _read_form(request: web.Request) -> tuple[dict[str, str], bytes | None]:
    """The posted fields and the chosen file's bytes (None when no file was chosen).

    The CSRF check has read the form already; aiohttp keeps it, so it is read here the same way."""
    form = await request.post()
    fields = {k: v for k, v in form.items() if isinstance(v, str) and k in {"content", "mode"}}
    upload = form.get("file")
    if isinstance(upload, FileField):
        data = upload.file.read(MAX_BYTES + 1)
        return fields, data if upload.filename or data else None
    return fields, None


def _page(request: web.Request, *, problems: list[dict[str, str | int]] | None = None, rows: int = 0,
          content: str = "", created: int | None = None, file_error: str = "", status: int = 200) -> web.Response:
    return render(request, "admin_import_staff.html", {
        "columns": COLUMNS, "problems": problems, "rows": rows, "content": content, "created": created,
        "file_error": file_error,
    }, status=status)


async def import_page(request: web.Request) -> web.StreamResponse:
    require_actor(request, Role.ADMIN)
    created = request.query.get("created", "")
    return _page(request, created=int(created) if created.isascii() and created.isdigit() else None)


async def import_submit(request: web.Request) -> web.StreamResponse:
    """``mode=check``: a dry run of the chosen file. ``mode=import``: the checked file (sent back as
    ``content``) is checked again and imported in one transaction, or not at all."""
    actor = require_actor(request, Role.ADMIN)
    fields, data = await _read_form(request)
    importer = request.app[STAFF_IMPORT]
    if fields.get("mode") == "import":
        data = fields.get("content", "").encode("utf-8")
        async with request.app[DATABASE].session() as session:
            result, _rows = await importer.check(session, data)
            if result.clean:
                result = await importer.run(session, actor, data)
        if result.clean:
            raise web.HTTPSeeOther(f"/admin/users/import?created={result.created}")
        return _page(request, problems=_view(result), rows=result.rows, status=422)
    if data is None:
        return _page(request, file_error=message_for("csv_file_required"), status=422)
    async with request.app[DATABASE].session() as session:
        result, _rows = await importer.check(session, data)
    if not result.clean:
        return _page(request, problems=_view(result), rows=result.rows, status=422)
    text = data.decode("utf-8-sig", "strict") if _is_utf8(data) else data.decode("cp1252")
    return _page(request, problems=[], rows=result.rows, content=text)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def setup_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/admin/users/import", import_page)
    router.add_post("/admin/users/import", import_submit)
