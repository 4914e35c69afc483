"""The add-in's files: the task pane at /taskpane/, its icons, and the manifest at /manifest.xml."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, send_from_directory

from .common import settings

bp = Blueprint("taskpane", __name__)

# Office loads the task pane in a frame and caches aggressively; short caching keeps edits visible.
MAX_AGE_S = 60


@bp.get("/")
def root():
    return redirect("/taskpane/", code=302)


@bp.get("/taskpane")
def taskpane_no_slash():
    return redirect("/taskpane/", code=301)


@bp.get("/taskpane/")
@bp.get("/taskpane/<path:name>")
def taskpane(name: str = "index.html"):
    folder = settings().taskpane_dir
    if not (folder / "index.html").is_file():
        abort(404)
    response = send_from_directory(folder, name, max_age=MAX_AGE_S)
    # Office hosts the pane in a frame of its own origin; nobody else should frame it
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


@bp.get("/manifest.xml")
def manifest():
    return send_from_directory(settings().taskpane_dir.parent, "manifest.xml", mimetype="application/xml",
                               max_age=MAX_AGE_S)
