"""The SVG charts: figures printed from the Decimals given, bars in proportion, safe text."""

from decimal import Decimal
from xml.etree import ElementTree

from common import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup):
    return ElementTree.fromstring(str(markup))


def test_nice_ceiling_steps():
    assert charts.nice_ceiling(Decimal("0")) == 1
    assert charts.nice_ceiling(Decimal("0.03")) == Decimal("0.05")
    assert charts.nice_ceiling(Decimal("7")) == 10
    assert charts.nice_ceiling(Decimal("180")) == 200
    assert charts.nice_ceiling(Decimal("2100")) == 2500
    assert charts.nice_ceiling(Decimal("2500")) == 2500


def test_stacked_bars_stack_in_proportion_and_title_exact_figures():
    svg = parse(
        charts.stacked_bars(
            ["11-01", "11-02"],
            [("gpt-4o", [Decimal("30.00"), Decimal("10.00")]), ("claude", [Decimal("10.00"), Decimal("0")])],
            label="Daily spend",
        )
    )
    assert svg.get("aria-label") == "Daily spend"
    rects = [r for r in svg.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    titles = [r.find(f"{SVG}title").text for r in rects]
    assert titles == ["11-01 · gpt-4o: ¥30.00", "11-01 · claude: ¥10.00", "11-02 · gpt-4o: ¥10.00"]
    heights = [float(r.get("height")) for r in rects]
    assert abs(heights[0] / heights[1] - 3) < 0.01
    assert abs(heights[0] / heights[2] - 3) < 0.01


def test_text_is_escaped():
    svg = str(charts.horizontal_bars([("<script>", Decimal("1"))], label='a"b'))
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    parse(svg)


def test_gauge_fill_and_threshold_ticks():
    svg = parse(
        charts.gauge(Decimal("850"), Decimal("1000"), thresholds=[Decimal("50"), Decimal("80.00")], label="Budget")
    )
    fill = next(r for r in svg.iter(f"{SVG}rect") if r.get("class") == "gauge-fill")
    assert abs(float(fill.get("width")) - 360 * 0.85) < 0.1
    assert fill.get("fill") == "#E69F00"  # past 80 %, not over the limit
    assert [t.text for t in svg.iter(f"{SVG}text")] == ["50%", "80%"]
    over = parse(charts.gauge(Decimal("1200"), Decimal("1000"), label="Budget"))
    assert next(r for r in over.iter(f"{SVG}rect") if r.get("class") == "gauge-fill").get("width") == "360.0"


def test_lines_one_point_per_month():
    months = [f"2026-{m:02d}" for m in range(1, 13)]
    svg = parse(charts.lines(months, [("A", [Decimal(m) for m in range(12)])], label="12 months"))
    circles = list(svg.iter(f"{SVG}circle"))
    assert len(circles) == 12
    assert circles[-1].find(f"{SVG}title").text == "2026-12 · A: ¥11.00"
