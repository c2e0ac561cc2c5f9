"""The picture a shared link shows (``og:image``): a 1200 × 630 PNG card per project and
language, drawn with Pillow from the published score card: name, operator and body, grade and
net score, the three SDG scores as bars in the goal colours, the two risk levels, and the demo
note where the ratings are illustrative.

Fonts: the first of ``SHARE_CARD_FONTS`` (settings) found on the machine; the Docker image installs
IPAGothic, which covers Japanese and Latin. Without any of them Pillow's own font draws the card
in English (its font has no Japanese), so the card never shows missing-glyph boxes for its labels.
"""

from __future__ import annotations

import io
from functools import cache

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont

from projects.vocabularies import RiskLevel, TargetBody

from .badges import GRADE_COLOURS, NEUTRAL
from .overview import GOAL_COLOURS

WIDTH, HEIGHT = 1200, 630
MARGIN = 64
INK = "#1f2933"
MUTED = "#52606d"
TRACK = "#e4e7eb"
DEMO = "#8a6100"

DEFAULT_FONTS = (
    "/usr/share/fonts/opentype/ipafont-gothic/ipagp.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)


@cache
def _font_path() -> str | None:
    for path in getattr(settings, "SHARE_CARD_FONTS", DEFAULT_FONTS):
        try:
            ImageFont.truetype(path, 10)
        except OSError:
            continue
        return path
    return None


def covers_japanese(path: str | None) -> bool:
    if path is None:
        return False
    font = ImageFont.truetype(path, 20)
    return font.getbbox("月")[2] > 0 and font.getmask("月").getbbox() is not None


@cache
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = _font_path()
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size)


def _fit(draw: ImageDraw.ImageDraw, text: str, size: int, width: int) -> list[str]:
    """``text`` on at most two lines of ``width`` pixels, the second cut with "…"."""
    lines, line = [], ""
    for character in text:
        if draw.textlength(line + character, font=font(size)) <= width:
            line += character
            continue
        if len(lines) == 1:
            while line and draw.textlength(line + "…", font=font(size)) > width:
                line = line[:-1]
            return [*lines, line.rstrip() + "…"]
        # Break at the last space when there is one (English), else anywhere (Japanese).
        head, _space, tail = line.rpartition(" ")
        if head:
            lines.append(head)
            line = tail + character
        else:
            lines.append(line)
            line = character
    return [*lines, line] if line else lines


def share_card_png(project, language: str) -> bytes:
    """The card of ``project`` (published score card) in ``language``, as PNG bytes."""
    if language == "ja" and not covers_japanese(_font_path()):
        language = "en"
    with translation.override(language):
        return _draw(project)


def _draw(project) -> bytes:
    score = project.published_score
    image = Image.new("RGB", (WIDTH, HEIGHT), "#ffffff")
    draw = ImageDraw.Draw(image)
    grade = score.grade if score is not None and score.status == "rated" else ""
    colour = GRADE_COLOURS.get(grade, NEUTRAL)
    draw.rectangle((0, 0, 16, HEIGHT), fill=colour)

    draw.text((MARGIN, 44), "sdgscore", font=font(30), fill=INK)
    tagline = _("Space-resource projects, rated on the SDGs")
    draw.text((MARGIN + draw.textlength("sdgscore  ", font=font(30)), 52), tagline, font=font(22), fill=MUTED)

    y = 112
    for line in _fit(draw, project.name, 60, WIDTH - 2 * MARGIN - 260):
        draw.text((MARGIN, y), line, font=font(60), fill=INK)
        y += 72
    body = dict(TargetBody.choices).get(project.target_body, project.target_body)
    draw.text((MARGIN, y + 8), f"{project.operator.name} · {body}", font=font(28), fill=MUTED)

    # Grade and net score, top right.
    box = (WIDTH - MARGIN - 200, 112, WIDTH - MARGIN, 312)
    draw.rounded_rectangle(box, radius=16, fill=colour)
    letter = grade or "–"
    centre_x = (box[0] + box[2]) / 2
    draw.text((centre_x, 190), letter, font=font(120), fill="#ffffff", anchor="mm")
    if score is not None and score.net_score is not None:
        net = _("Net %(score)s / 100") % {"score": f"{score.net_score:.1f}"}
    else:
        net = _("insufficient data")
    draw.text((centre_x, 285), net, font=font(24), fill="#ffffff", anchor="mm")

    # SDG bars.
    top, bar_left, bar_width = 380, MARGIN + 130, 560
    for index, key in enumerate(("sdg7", "sdg9", "sdg12")):
        row_y = top + index * 56
        draw.text((MARGIN, row_y + 20), f"SDG {key[3:]}", font=font(28), fill=INK, anchor="lm")
        draw.rectangle((bar_left, row_y + 6, bar_left + bar_width, row_y + 34), fill=TRACK)
        value = getattr(score, key) if score is not None else None
        if value is not None:
            end = bar_left + bar_width * min(value, 100) / 100
            draw.rectangle((bar_left, row_y + 6, end, row_y + 34), fill=GOAL_COLOURS[key])
            figure = f"{value:.1f}"
        else:
            figure = "—"
        draw.text((bar_left + bar_width + 16, row_y + 20), figure, font=font(28), fill=INK, anchor="lm")

    # Risks, right of the bars.
    risk_x = WIDTH - MARGIN - 260
    names = {"debris": _("Debris risk"), "equity": _("Equity risk")}
    for index, key in enumerate(("debris", "equity")):
        level = getattr(score, f"{key}_level", "") if score is not None else ""
        row_y = top + index * 84
        draw.text((risk_x, row_y), names[key], font=font(24), fill=MUTED)
        name = str(RiskLevel(level).label) if level in RiskLevel.values else "—"
        draw.text((risk_x, row_y + 30), name, font=font(34), fill=INK)

    if project.is_illustrative:
        note = _("Illustrative demo assessment: not a real rating.")
        draw.rectangle((0, HEIGHT - 56, WIDTH, HEIGHT), fill="#fff6dc")
        draw.text((MARGIN, HEIGHT - 28), note, font=font(26), fill=DEMO, anchor="lm")

    output = io.BytesIO()
    image.save(output, format="PNG", optimize=True)
    return output.getvalue()
