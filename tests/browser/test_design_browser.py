"""Bedside's design system in real Chromium, at desktop and phone size, in English and Spanish:
one stylesheet and a same-origin favicon, its components, the case stepper, right/wrong marks,
the verdict in view on a phone, tables that reflow without broken words, and the keyboard path
(skip link, visible focus, answer then next question in a few keystrokes)."""

from __future__ import annotations

import pytest
import yaml

from app.settings import REPO_ROOT
from tests.browser.test_certificates_browser import record_a_case_credit
from tests.browser.test_learner_pages_browser import sign_in
from tests.support.chromium import open_page

SEPSIS_ID = "sepsis-hour-1-bundle"
SEPSIS = yaml.safe_load((REPO_ROOT / f"content/modules/{SEPSIS_ID}.yaml").read_text())
FIRST = SEPSIS["case"]["questions"][0]
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
SIZES_AND_LANGUAGES = [("desktop", "en"), ("phone", "es")]
TEXT = {
    "en": {"question": "Question {} of 4", "wrong": "Not the best answer.", "yours": "Your answer"},
    "es": {
        "question": "Pregunta {} de 4",
        "wrong": "No es la mejor respuesta.",
        "yours": "Su respuesta",
    },
}
KINDS = ("info", "success", "warning", "error")
MAX_TABS = 40

CONTRAST = """(element, pseudo) => {
    const style = getComputedStyle(element, pseudo);
    const channels = text => text.match(/[\\d.]+/g).slice(0, 3).map(Number);
    const luminance = rgb => rgb.map(v => v / 255)
        .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
        .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
    let node = element, background = 'rgba(0, 0, 0, 0)';
    while (node && /rgba\\(.*, 0\\)$/.test(background)) {
        background = getComputedStyle(node).backgroundColor;
        node = node.parentElement;
    }
    if (/rgba\\(.*, 0\\)$/.test(background)) background = 'rgb(255, 255, 255)';
    const [a, b] = [luminance(channels(style.color)), luminance(channels(background))];
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""
BROKEN_WORDS = """selector => {
    const broken = [];
    for (const cell of document.querySelectorAll(selector)) {
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            if (node.parentElement.closest('code')) continue;  // a hash is not a word
            for (const word of node.data.matchAll(/[^\\s\\-\\u2013\\u2014\\/]+/g)) {
                const range = document.createRange();
                range.setStart(node, word.index);
                range.setEnd(node, word.index + word[0].length);
                const lines = new Set([...range.getClientRects()]
                    .filter(box => box.width > 0).map(box => Math.round(box.top)));
                if (lines.size > 1) broken.push(word[0]);
            }
        }
    }
    return broken;
}"""


def browser_page(chromium, request, size: str):
    """A fresh page at desktop or phone size."""
    return open_page(chromium, request, **VIEWPORTS[size])


def signed_in(page, base: str, lang: str) -> None:
    """Sign in through the demo EHR and choose the language."""
    sign_in(page, base)
    page.goto(page.url + f"&lang={lang}")


def start_case(page, base: str) -> None:
    """Open the sepsis case and start it (question 1)."""
    page.goto(f"{base}/app/case/{SEPSIS_ID}")
    page.click(".before-start button.primary")
    page.wait_for_url("**/q/1*")


def tab_until(page, selector: str) -> int:
    """Press Tab until the focused element matches selector; return how many presses it took."""
    for presses in range(1, MAX_TABS + 1):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return presses
    raise AssertionError(f"Tab never reached {selector}")


def focus_ring(page) -> dict:
    """The focused element's outline as computed (style, width in px, contrast with the page)."""
    return page.evaluate(
        """() => { const style = getComputedStyle(document.activeElement);
                   return {style: style.outlineStyle, width: parseFloat(style.outlineWidth),
                           color: style.outlineColor}; }"""
    )


@pytest.mark.parametrize(("size", "lang"), SIZES_AND_LANGUAGES)
def test_one_stylesheet_system_fonts_and_a_same_origin_favicon_everywhere(
    chromium, request, demo_server, size, lang
):
    page = browser_page(chromium, request, size)
    requested: list[str] = []
    page.on("request", lambda sent: requested.append(sent.url))
    signed_in(page, demo_server.url, lang)
    record_a_case_credit(demo_server.app)
    pages = ["/app/", "/dashboards/", "/demo-ehr/", "/ledger/transcript", "/ledger/certificates/1"]
    for path in pages:
        page.goto(demo_server.url + path)
        sheets = page.evaluate("[...document.styleSheets].map(sheet => sheet.href)")
        assert sheets == [f"{demo_server.url}/static/bedside.css"], path
        tokens = page.evaluate(
            """() => ['--accent', '--space-4', '--radius', '--focus'].map(name =>
                getComputedStyle(document.documentElement).getPropertyValue(name).trim())"""
        )
        assert all(tokens), (path, tokens)
        font = page.evaluate("getComputedStyle(document.body).fontFamily")
        assert font.startswith("system-ui"), (path, font)
        icon = page.get_attribute("link[rel='icon']", "href")
        assert icon.endswith("/static/favicon.svg"), path
    favicon = page.request.get(f"{demo_server.url}/static/favicon.svg")
    assert favicon.ok and favicon.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in favicon.text() and len(favicon.body()) < 2_000
    assert [url for url in requested if not url.startswith(demo_server.url)] == []


@pytest.mark.parametrize(("size", "lang"), SIZES_AND_LANGUAGES)
def test_components_buttons_controls_and_alerts(chromium, request, demo_server, size, lang):
    page = browser_page(chromium, request, size)
    signed_in(page, demo_server.url, lang)
    page.goto(f"{demo_server.url}/app/profile")
    shown = page.evaluate(
        """kinds => {
            const main = document.querySelector('main');
            const sample = document.createElement('div');
            sample.innerHTML = `<button class="primary">P</button>
              <button class="secondary">S</button>
              ${kinds.map(kind => `<p class="alert alert-${kind}">${kind}</p>`).join('')}`;
            main.prepend(sample);
            const style = (selector, pseudo) =>
                getComputedStyle(sample.querySelector(selector), pseudo);
            return {
              primary: style('.primary').backgroundColor,
              secondary: style('.secondary').backgroundColor,
              height: parseFloat(style('.primary').height),
              icons: kinds.map(kind => style('.alert-' + kind, '::before').content),
              colours: kinds.map(kind => style('.alert-' + kind).color),
            };
        }""",
        list(KINDS),
    )
    assert shown["primary"] != shown["secondary"]
    assert shown["height"] >= 44  # a touch target
    assert all(icon not in ("none", "normal", "") for icon in shown["icons"]), shown["icons"]
    assert len(set(shown["icons"])) == 4 and len(set(shown["colours"])) == 4
    for kind in KINDS:
        alert = page.locator(f"main .alert-{kind}").first
        assert alert.evaluate(CONTRAST, None) >= 4.5, kind
    for control in page.locator("main select, main input[type='text'], main button").all():
        if control.is_visible():
            assert control.bounding_box()["height"] >= 40


@pytest.mark.parametrize(("size", "lang"), SIZES_AND_LANGUAGES)
def test_skip_link_first_then_a_clearly_visible_focus_ring(
    chromium, request, demo_server, size, lang
):
    page = browser_page(chromium, request, size)
    signed_in(page, demo_server.url, lang)
    for path in ("/app/", "/dashboards/", "/demo-ehr/"):
        page.goto(demo_server.url + path)
        page.keyboard.press("Tab")
        skip = page.locator("a.skip-link")
        assert page.evaluate("document.activeElement.matches('a.skip-link')"), path
        box = skip.bounding_box()
        assert box["y"] >= 0 and box["height"] > 20, "the focused skip link is shown"
        ring = focus_ring(page)
        assert ring["style"] == "solid" and ring["width"] >= 3, (path, ring)
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        for _ in range(3):  # the next controls show the same ring
            page.keyboard.press("Tab")
            ring = focus_ring(page)
            assert ring["style"] == "solid" and ring["width"] >= 3, (path, ring)
            assert ring["color"] == "rgb(29, 78, 216)"


@pytest.mark.parametrize(("size", "lang"), SIZES_AND_LANGUAGES)
def test_answer_then_next_question_in_a_few_keystrokes_with_the_stepper(
    chromium, request, demo_server, size, lang
):
    page = browser_page(chromium, request, size)
    signed_in(page, demo_server.url, lang)
    start_case(page, demo_server.url)
    assert page.inner_text(".progress-line").startswith(TEXT[lang]["question"].format(1))
    assert tab_until(page, "a.skip-link") == 1
    page.keyboard.press("Enter")
    assert tab_until(page, "input[name='option']") == 1  # from main, straight to the answers
    values = page.eval_on_selector_all("input[name='option']", "inputs => inputs.map(i => i.value)")
    page.keyboard.press("Space")
    for _ in range(values.index(FIRST["answer"])):
        page.keyboard.press("ArrowDown")
    assert tab_until(page, "form button[type='submit']") <= 2  # past the optional confidence
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector(".feedback.correct")
    assert tab_until(page, "a.button.primary") <= 2  # the verdict, then Next question
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.inner_text(".progress-line").startswith(TEXT[lang]["question"].format(2))
    steps = page.locator("ol.stepper li")
    assert steps.count() == 4
    assert "done" in steps.nth(0).get_attribute("class")
    assert steps.nth(1).get_attribute("aria-current") == "step"
    assert page.locator("ol.stepper [aria-current]").count() == 1


@pytest.mark.parametrize("lang", ["en", "es"])
def test_on_a_phone_a_wrong_answer_shows_its_verdict_in_view_with_marks_and_words(
    chromium, request, demo_server, lang
):
    phone = browser_page(chromium, request, "phone")
    signed_in(phone, demo_server.url, lang)
    start_case(phone, demo_server.url)
    wrong = next(o["id"] for o in FIRST["options"] if o["id"] != FIRST["answer"])
    phone.check(f"input[name='option'][value='{wrong}']")
    phone.click("form button.primary")
    phone.wait_for_selector(".feedback.incorrect")
    box = phone.evaluate(
        """() => { const box = document.querySelector('.feedback .verdict').getBoundingClientRect();
                   return {top: box.top, bottom: box.bottom, height: innerHeight}; }"""
    )
    assert box["top"] >= 0 and box["bottom"] <= box["height"], box
    verdict = phone.inner_text(".feedback .verdict")
    assert "✗" in verdict and TEXT[lang]["wrong"] in verdict
    assert TEXT[lang]["yours"] in phone.inner_text(".options-review .tag-wrong")
    assert "✓" in phone.inner_text(".options-review .tag-right")
    assert phone.locator(".feedback .verdict").evaluate(CONTRAST, None) >= 4.5


@pytest.mark.parametrize("lang", ["en", "es"])
def test_transcript_and_credit_tables_reflow_on_a_phone_without_broken_words(
    chromium, request, demo_server, lang
):
    phone = browser_page(chromium, request, "phone")
    signed_in(phone, demo_server.url, lang)
    record_a_case_credit(demo_server.app)
    for path in ("/app/transcript", "/ledger/transcript", "/ledger/certificates/period"):
        phone.goto(demo_server.url + path)
        assert phone.evaluate("document.documentElement.scrollWidth <= innerWidth"), path
        assert phone.evaluate(BROKEN_WORDS, "main th, main td, main caption") == [], path
        cells = phone.eval_on_selector_all(
            "table.reflow tbody td",
            """cells => cells.map(cell => ({
                display: getComputedStyle(cell).display,
                label: getComputedStyle(cell, '::before').content,
                header: cell.closest('table').querySelectorAll('th')[cell.cellIndex].textContent,
            }))""",
        )
        assert cells, path
        for cell in cells:  # each row a card; each value under its column's name
            assert cell["display"] == "grid" and cell["label"] == f'"{cell["header"]}"', cell


def test_tables_stay_tables_on_a_desktop(chromium, request, demo_server):
    page = browser_page(chromium, request, "desktop")
    signed_in(page, demo_server.url, "en")
    record_a_case_credit(demo_server.app)
    page.goto(f"{demo_server.url}/app/transcript")
    assert page.evaluate("getComputedStyle(document.querySelector('table.reflow td')).display") == (
        "table-cell"
    )
    assert page.evaluate(BROKEN_WORDS, "main th, main td") == []


@pytest.mark.parametrize(("size", "lang"), SIZES_AND_LANGUAGES)
def test_the_point_of_care_stepper_marks_the_step_in_progress(
    chromium, request, demo_server, size, lang
):
    page = browser_page(chromium, request, size)
    signed_in(page, demo_server.url, lang)
    page.goto(f"{demo_server.url}/app/poc/new?q=Blood+cultures+before+antibiotics+in+sepsis")
    page.check("input[name='reason'][value='new-information']")
    page.click("form button.primary")
    page.wait_for_url("**/search*")
    steps = page.locator("ol.stepper li")
    assert steps.count() == 3
    assert "done" in steps.nth(0).get_attribute("class")
    assert steps.nth(1).get_attribute("aria-current") == "step"
    assert page.locator("ol.stepper [aria-current]").count() == 1
    page.click(f"a[href*='/read/{SEPSIS_ID}']")
    page.click("button[value='now']")
    page.wait_for_url("**/apply*")
    assert steps.nth(2).get_attribute("aria-current") == "step"
    assert "done" in steps.nth(1).get_attribute("class")


def test_the_one_stylesheet_prints_a_certificate_without_the_page_chrome(
    chromium, request, demo_server
):
    page = browser_page(chromium, request, "desktop")
    signed_in(page, demo_server.url, "en")
    record_a_case_credit(demo_server.app)
    page.goto(f"{demo_server.url}/ledger/certificates/1")
    assert page.locator("header.site").is_visible() and page.locator(".print-hint").is_visible()
    page.emulate_media(media="print")
    for chrome in ("header.site", ".print-hint", ".skip-link", ".add-name"):
        assert not page.locator(chrome).is_visible(), chrome
    sheet = page.evaluate("getComputedStyle(document.querySelector('main.sheet')).borderTopStyle")
    assert sheet == "none"
    assert page.locator("h1").inner_text() == "Certificate of completion"
    assert page.pdf(format="A4").startswith(b"%PDF")  # Chromium's "save as PDF" of the sheet
