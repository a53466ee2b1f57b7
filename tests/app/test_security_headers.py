"""Every response carries a strict CSP; EHR framing is opt-in by configuration."""

from __future__ import annotations

from app import create_app


def test_pages_have_a_csp_without_inline_script(client):
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'self'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_no_page_uses_an_inline_script(client):
    for path in ["/", "/launch.html", "/no-such-page"]:
        body = client.get(path, headers={"Accept": "text/html"}).get_data(as_text=True)
        assert "<script>" not in body
        assert "onclick=" not in body.lower()


def test_frame_ancestors_is_configurable(instance_path):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(instance_path / "b.db"),
            "FRAME_ANCESTORS": "https://ehr.example",
        },
        instance_path=instance_path,
    )
    policy = app.test_client().get("/healthz").headers["Content-Security-Policy"]
    assert "frame-ancestors https://ehr.example" in policy
