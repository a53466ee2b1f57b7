"""One JSON error shape on APIs and HTML pages for people — pinned."""

from __future__ import annotations

from flask import Blueprint

from app.errors import ApiError, error_body


def add_failing_routes(app):
    """Register routes that fail in known ways."""
    bp = Blueprint("failing", __name__)

    @bp.get("/api/boom")
    def boom():
        raise RuntimeError("secret internals")

    @bp.get("/api/bad")
    def bad():
        raise ApiError(400, "invalid_field", "context.patientId is required.", "context.patientId")

    @bp.get("/page/boom")
    def page_boom():
        raise RuntimeError("secret internals")

    app.register_blueprint(bp)


def test_error_shape_is_pinned():
    assert error_body("not_found", "No such service.") == {
        "error": {"code": "not_found", "message": "No such service."}
    }
    assert error_body("invalid_field", "m", "hook") == {
        "error": {"code": "invalid_field", "message": "m", "field": "hook"}
    }


def test_api_404_uses_the_json_shape(client):
    response = client.get("/cds-services/nope/also-nope")
    assert response.status_code == 404
    assert response.is_json
    assert response.json["error"]["code"] == "not_found"
    assert set(response.json) == {"error"}


def test_api_405_keeps_the_allow_header(client):
    response = client.delete("/healthz")
    assert response.status_code == 405
    assert response.json["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_named_api_error_names_the_field(app):
    add_failing_routes(app)
    response = app.test_client().get("/api/bad")
    assert response.status_code == 400
    assert response.json == {
        "error": {
            "code": "invalid_field",
            "message": "context.patientId is required.",
            "field": "context.patientId",
        }
    }


def test_unexpected_api_failure_is_a_bare_500_without_internals(app, caplog):
    add_failing_routes(app)
    response = app.test_client().get("/api/boom")
    assert response.status_code == 500
    assert response.json["error"]["code"] == "internal_error"
    assert "secret internals" not in response.get_data(as_text=True)
    assert "secret internals" in caplog.text  # the operator still sees it in the log


def test_page_errors_are_html(app):
    add_failing_routes(app)
    client = app.test_client()
    missing = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert missing.status_code == 404
    assert missing.mimetype == "text/html"
    assert "<h1>Not Found</h1>" in missing.get_data(as_text=True)
    broken = client.get("/page/boom", headers={"Accept": "text/html"})
    assert broken.status_code == 500
    assert "secret internals" not in broken.get_data(as_text=True)


def test_json_clients_get_json_errors_anywhere(client):
    response = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "demo": False}
