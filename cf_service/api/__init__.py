"""HTTP blueprints. Imported by `create_app` only, so the rule language stays Flask-free."""
from __future__ import annotations


def register_blueprints(app) -> None:
    from . import cf, code, health, openapi, stream, taskpane

    for module in (health, cf, code, stream, taskpane, openapi):
        app.register_blueprint(module.bp)
