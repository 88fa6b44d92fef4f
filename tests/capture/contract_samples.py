"""Synthetic contract pages with known fields, for tests and benchmarks/contract_ocr.

`make_sample(seed, ...)` draws a Chinese or English contract page (several fonts and
layouts, red seals over the signature block) and then, like a phone or a webcam
would, photographs it: perspective on a desk, uneven light, rotation, noise, blur,
JPEG artefacts, low resolution. The amount in capitals comes from cn2an, not from the
code under test.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import random
import subprocess
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import cn2an
import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from desktop.schema import uscc_check_char

PAGE_W, PAGE_H = 1240, 1754  # A4 at 150 dpi
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
FIELDS_ALL = ["contract_no", "party_a_name", "party_a_uscc", "party_b_name", "party_b_uscc",
              "amount", "amount_in_words", "currency", "sign_date"]
DISTORTIONS = ("rotate", "perspective", "light", "noise", "blur", "jpeg", "lowres", "shadow",
               "hand_shadow", "finger", "glare", "curve", "jpeg60", "photo1280", "typo",
               "white_desk")
# The failure classes of real phone photos (issue 20), each on a photo of a page lying on
# a desk (perspective, uneven light) unless the class says otherwise; "mixed" is the
# earlier random mix of DISTORTIONS[:8].
CLASSES: dict[str, tuple[str, ...]] = {
    "hand_shadow": ("perspective", "white_desk", "light", "hand_shadow"),
    "finger": ("perspective", "light", "finger"),
    "glare": ("perspective", "light", "glare"),
    "curve": ("perspective", "light", "curve"),
    "jpeg60": ("perspective", "light", "jpeg60"),
    "photo1280": ("perspective", "light", "photo1280"),
    "typo": ("perspective", "light", "typo"),
    # Everything a careless phone photo does at once.
    "all_at_once": ("perspective", "white_desk", "light", "hand_shadow", "finger", "glare",
                    "curve", "jpeg60", "photo1280", "typo"),
}
# How OCR misreads a place name inside a party name: (printed right, read as).
PLACE_MISREADS = [("厦门", "厦内"), ("杭州", "杭川"), ("苏州", "苏卅"), ("武汉", "武汊"),
                  ("南京", "南亰"), ("成都", "戍都")]

CITIES = [("上海", "Shanghai"), ("北京", "Beijing"), ("深圳", "Shenzhen"), ("杭州", "Hangzhou"),
          ("苏州", "Suzhou"), ("成都", "Chengdu"), ("武汉", "Wuhan"), ("南京", "Nanjing"),
          ("广州", "Guangzhou"), ("厦门", "Xiamen")]
CORES = [("星辰", "Xingchen"), ("华信", "Huaxin"), ("宏达", "Hongda"), ("瑞丰", "Ruifeng"),
         ("安泰", "Antai"), ("鼎盛", "Dingsheng"), ("恒通", "Hengtong"), ("明德", "Mingde"),
         ("新锐", "Xinrui"), ("博远", "Boyuan"), ("金桥", "Jinqiao"), ("海纳", "Haina")]
TRADES = [("科技", "Technology"), ("贸易", "Trading"), ("机械", "Machinery"),
          ("电子", "Electronics"), ("医疗器械", "Medical Devices"),
          ("信息技术", "Information Technology"),
          ("物流", "Logistics"), ("新材料", "New Materials")]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
CLAUSES_ZH = [
    "第一条 乙方按甲方要求提供合同附件所列货物及相关技术服务。",
    "第二条 交货地点为甲方指定仓库，运输费用由乙方承担。",
    "第三条 甲方在验收合格后三十日内支付全部合同价款。",
    "第四条 任何一方违约的，应向守约方支付违约金。",
    "第五条 本合同一式两份，双方各执一份，自双方盖章之日起生效。",
]
CLAUSES_EN = [
    "1. The Seller shall deliver the goods listed in Annex 1 to the Buyer's warehouse.",
    "2. Payment shall be made by bank transfer within thirty days after acceptance.",
    "3. The Seller warrants the goods for twelve months from delivery.",
    "4. This Contract is made in two originals, each party holding one.",
]


@dataclass
class Sample:
    name: str
    lang: str
    truth: dict[str, Any]
    clean: Image.Image  # the page as printed
    data: bytes = b""  # the "photo", encoded
    suffix: str = ".jpg"
    distortions: tuple[str, ...] = field(default_factory=tuple)
    misread: dict[str, str] = field(default_factory=dict)  # field -> as printed, if not truth

    def write(self, folder: Path) -> Path:
        path = folder / f"{self.name}{self.suffix}"
        path.write_bytes(self.data)
        return path


@cache
def cjk_fonts() -> tuple[tuple[str, int], ...]:
    """(path, ttc index) of Simplified Chinese Noto CJK faces; fails loudly if none."""
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True,
                             check=True, timeout=20).stdout
        files = sorted({line.split(":")[0].strip() for line in out.splitlines() if line.strip()})
    except (OSError, subprocess.SubprocessError):
        files = [str(p) for p in Path("/usr/share/fonts/opentype/noto").glob("*CJK*.ttc")]
    faces = []
    for path in files:
        for idx in range(6):
            try:
                name = ImageFont.truetype(path, 20, index=idx).getname()[0]
            except OSError:
                break
            if name.endswith("CJK SC") and "Mono" not in name:
                faces.append((path, idx))
    if not faces:
        raise RuntimeError("No Simplified Chinese font found: apt-get install fonts-noto-cjk")
    return tuple(faces)


def _font(rng: random.Random, size: int,
          face: tuple[str, int] | None = None) -> ImageFont.FreeTypeFont:
    path, idx = face or rng.choice(cjk_fonts())
    return ImageFont.truetype(path, size, index=idx)


# Where a company in each city is registered (a credit code's characters 3-8).
CITY_CODES = {"上海": "310115", "北京": "110108", "深圳": "440300", "杭州": "330106",
              "苏州": "320505", "成都": "510107", "武汉": "420106", "南京": "320105",
              "广州": "440106", "厦门": "350203"}


def make_uscc(rng: random.Random, letters: bool = True, city: str | None = None) -> str:
    """A credit code with a right check character, issued in `city` (one of CITIES, by
    its Chinese name) when given."""
    body = rng.choice(["91", "92", "12", "52"])
    region = rng.choice(["310115", "110108", "440300", "330106", "320505"])
    body += CITY_CODES[city] if city else region
    pool = USCC_CHARS if letters else "0123456789"
    body += "".join(rng.choice(pool) for _ in range(9))
    check = uscc_check_char(body)
    assert check is not None
    return body + check


def make_fields(rng: random.Random, lang: str) -> dict[str, Any]:
    cities = {}

    def company(zh: bool) -> str:
        c, k, t = rng.choice(CITIES), rng.choice(CORES), rng.choice(TRADES)
        name = (f"{c[0]}{k[0]}{t[0]}{rng.choice(['有限公司', '股份有限公司'])}" if zh
                else f"{c[1]} {k[1]} {t[1]} Co., Ltd.")
        cities[name] = c[0]
        return name

    zh = lang == "zh"
    a = company(zh)
    b = company(zh)
    while b == a:
        b = company(zh)
    cents = rng.random() < 0.3
    amount = Decimal(rng.randint(20, 99999) * 100 + (rng.randint(0, 99) if cents else 0))
    if cents:
        amount /= 100
    amount = amount.quantize(Decimal("0.01"))
    date = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randint(0, 330))
    year = date.year
    no = rng.choice([f"HT-{year}-{rng.randint(1, 9999):05d}",
                     f"SH{year}{rng.randint(10**5, 10**6 - 1)}",
                     f"CG-XS-{year}-{rng.randint(1, 999):04d}",
                     f"SC{year}-{rng.randint(1, 9999):04d}"])
    currency = "CNY" if zh else rng.choice(["USD", "EUR", "CNY"])
    return {
        "contract_no": no,
        "party_a_name": a,
        "party_a_uscc": make_uscc(rng, city=cities[a]),
        "party_b_name": b,
        "party_b_uscc": make_uscc(rng, city=cities[b]),
        "amount": float(amount),
        "amount_in_words": ("人民币" + cn2an.an2cn(str(amount), "rmb")) if zh else None,
        "currency": currency,
        "sign_date": date.isoformat(),
    }


def _fmt_amount(v: float) -> str:
    return f"{v:,.2f}"


def _lines_zh(f: dict[str, Any], layout: int,
              rng: random.Random) -> tuple[str, list[str], list[str]]:
    d = dt.date.fromisoformat(f["sign_date"])
    cn_date = f"{d.year}年{d.month}月{d.day}日"
    amt = _fmt_amount(f["amount"])
    if layout == 0:
        head = ["合同编号：" + f["contract_no"], "",
                "甲方（买方）：" + f["party_a_name"], "统一社会信用代码：" + f["party_a_uscc"],
                "地址：" + f["party_a_name"][:2] + "市科技园路88号", "",
                "乙方（卖方）：" + f["party_b_name"], "统一社会信用代码：" + f["party_b_uscc"],
                "地址：" + f["party_b_name"][:2] + "市工业大道16号", ""]
        money = [f"合同总金额：人民币{amt}元（大写：{f['amount_in_words']}）"]
        sign = ["签订日期：" + cn_date]
    else:
        head = ["合同号：" + f["contract_no"], "",
                "甲方：" + f["party_a_name"], "信用代码：" + f["party_a_uscc"], "",
                "乙方：" + f["party_b_name"], "信用代码：" + f["party_b_uscc"], ""]
        money = [f"合同价款总计：¥{amt}", f"大写金额：{f['amount_in_words']}"]
        sign = [f"签约日期：{d.isoformat()}", "签订地点：" + f["party_a_name"][:2]]
    clauses = rng.sample(CLAUSES_ZH, 3)
    body = head + clauses[:1] + money + clauses[1:] + [""]
    return rng.choice(["购销合同", "技术服务合同", "采购合同"]), body, sign


def _date_en(d: dt.date, rng: random.Random) -> str:
    return rng.choice([f"{MONTHS[d.month - 1]} {d.day}, {d.year}",
                       f"{d.day} {MONTHS[d.month - 1]} {d.year}",
                       d.isoformat()])


def _lines_en(f: dict[str, Any], layout: int,
              rng: random.Random) -> tuple[str, list[str], list[str]]:
    d = dt.date.fromisoformat(f["sign_date"])
    a_lbl, b_lbl = ("Buyer", "Seller") if layout == 2 else ("Party A", "Party B")
    head = ["Contract No.: " + f["contract_no"], "",
            f"{a_lbl}: {f['party_a_name']}", "Unified Social Credit Code: " + f["party_a_uscc"], "",
            f"{b_lbl}: {f['party_b_name']}", "Unified Social Credit Code: " + f["party_b_uscc"], ""]
    money = [f"Total Contract Value: {f['currency']} {_fmt_amount(f['amount'])}"]
    clauses = rng.sample(CLAUSES_EN, 3)
    body = head + clauses[:1] + money + clauses[1:] + [""]
    sign = ["Date of Signing: " + _date_en(d, rng)]
    return "SALES CONTRACT", body, sign


def _seal(draw_size: int, text: str, font_face: tuple[str, int], rng: random.Random) -> Image.Image:
    """A round red company seal on transparent ground (RGBA)."""
    s = draw_size
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    red = (rng.randint(190, 230), rng.randint(20, 50), rng.randint(20, 50), 255)
    d.ellipse((4, 4, s - 4, s - 4), outline=red, width=max(4, s // 30))
    cx = cy = s / 2
    r = s * 0.16
    pts = [(cx + r * math.cos(math.pi / 2 + k * 4 * math.pi / 5),
            cy - r * math.sin(math.pi / 2 + k * 4 * math.pi / 5)) for k in range(5)]
    d.polygon(pts, fill=red)
    font = ImageFont.truetype(font_face[0], s // 9, index=font_face[1])
    chars = list(text[:14])
    for i, ch in enumerate(chars):
        ang = math.pi * (1.15 - 1.3 * i / max(1, len(chars) - 1))
        x = cx + s * 0.36 * math.cos(ang)
        y = cy - s * 0.36 * math.sin(ang)
        glyph = Image.new("RGBA", (s // 8, s // 8), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((0, 0), ch, font=font, fill=red)
        glyph = glyph.rotate(math.degrees(ang) - 90, expand=False)
        img.alpha_composite(glyph, (int(x - s // 16), int(y - s // 16)))
    alpha = img.getchannel("A").point(lambda v: int(v * rng.uniform(0.75, 0.95)))
    img.putalpha(alpha)
    return img


def render_page(f: dict[str, Any], lang: str, layout: int, rng: random.Random,
                seals: bool = True) -> Image.Image:
    title, body, sign = (_lines_zh if lang == "zh" else _lines_en)(f, layout, rng)
    face = rng.choice(cjk_fonts())
    size = rng.randint(25, 29)
    font = _font(rng, size, face)
    title_font = _font(rng, size + 14, face)
    page = Image.new("RGB", (PAGE_W, PAGE_H), "white")
    d = ImageDraw.Draw(page)
    tw = d.textlength(title, font=title_font)
    d.text(((PAGE_W - tw) / 2, 110), title, fill="black", font=title_font)
    x, y = rng.randint(110, 150), 210
    step = int(size * rng.uniform(1.75, 2.0))
    for line in body:
        if line:
            d.text((x, y), line, fill="black", font=font)
        y += step if line else step // 2
    y = max(y + step, PAGE_H - 420)
    if lang == "zh":
        left, right = "甲方（盖章）：", "乙方（盖章）："
    else:
        left, right = (("Buyer (seal):", "Seller (seal):") if layout == 2
                       else ("Party A (seal):", "Party B (seal):"))
    d.text((x, y), left, fill="black", font=font)
    d.text((PAGE_W // 2 + 40, y), right, fill="black", font=font)
    d.text((x, y + step), "授权代表：" if lang == "zh" else "Authorised representative:",
           fill="black", font=font)
    y_sign = y + 2 * step + 10
    for line in sign:
        d.text((x, y_sign), line, fill="black", font=font)
        y_sign += step
    if seals:
        names = (f["party_a_name"], f["party_b_name"])
        for i, cx in enumerate((x + 220, PAGE_W // 2 + 280)):
            seal = _seal(rng.randint(190, 230),
                         names[i] if lang == "zh" else "合同专用章" + names[i][:4],
                         face, rng)
            seal = seal.rotate(rng.uniform(-25, 25), expand=True)
            # The seal covers the signature block, the date line under it included.
            cy = y + step + rng.randint(0, step)
            layer = Image.new("RGBA", page.size, (255, 255, 255, 0))
            layer.alpha_composite(seal, (int(cx - seal.width / 2), int(cy - seal.height / 2)))
            ink = Image.new("RGB", page.size, "white")
            ink.paste(layer, mask=layer.getchannel("A"))
            page = Image.fromarray((np.asarray(page, np.float32)
                                    * np.asarray(ink, np.float32) / 255)
                                   .astype(np.uint8))
    return page


def _curve(img: np.ndarray, rng: random.Random) -> np.ndarray:
    """A page that does not lie flat (a bound or folded sheet): lines bow up or down by up
    to ~2 % of the width in the middle and the sheet narrows a little at its edges."""
    h, w = img.shape[:2]
    bow = rng.uniform(0.012, 0.022) * w * rng.choice((-1, 1))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u = 2 * xx / w - 1  # -1 .. 1 across the page
    # Bulge strongest in the middle rows, weaker at top and bottom (the sheet is held there).
    v = 1 - 0.4 * ((2 * yy / h - 1) ** 2)
    map_y = yy + bow * (1 - u ** 2) * v
    map_x = xx + 0.01 * w * u * np.abs(u)
    return cv2.remap(img, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                     borderValue=(255, 255, 255))


def _hand_shadow(img: np.ndarray, rng: random.Random) -> np.ndarray:
    """A hard shadow of a hand or phone over the left third of the photo: a dark band with
    a sharp, slightly slanted edge that page finding can take for the sheet's edge."""
    h, w = img.shape[:2]
    shade = np.ones((h, w), np.float32)
    x_top = int(w * rng.uniform(0.28, 0.38))
    x_bot = int(x_top + w * rng.uniform(-0.06, 0.06))
    # A knuckle or the phone's corner: a bump in the edge part way down.
    y_mid = int(h * rng.uniform(0.3, 0.7))
    bump = int(w * rng.uniform(0.0, 0.05))
    poly = np.int32([[0, 0], [x_top, 0], [(x_top + x_bot) // 2 + bump, y_mid], [x_bot, h], [0, h]])
    cv2.fillPoly(shade, [poly], (rng.uniform(0.3, 0.45),))
    shade = cv2.GaussianBlur(shade, (0, 0), rng.uniform(2, 5))  # a hard shadow: sharp edge
    return img * shade[:, :, None]


def _glare(img: np.ndarray, rng: random.Random) -> np.ndarray:
    """A glossy sheet under a lamp: a bright patch that washes out (not erases) the ink."""
    h, w = img.shape[:2]
    cx, cy = rng.uniform(0.25, 0.75) * w, rng.uniform(0.2, 0.8) * h
    rx, ry = rng.uniform(0.08, 0.16) * w, rng.uniform(0.05, 0.1) * h
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    d = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2
    alpha = rng.uniform(0.55, 0.7) * np.exp(-d * 1.2)
    return img * (1 - alpha[:, :, None]) + 255 * alpha[:, :, None]


def _finger(img: np.ndarray, rng: random.Random, page_box: np.ndarray) -> np.ndarray:
    """A thumb holding the sheet down over one of its corners (the margin, not the text)."""
    h, w = img.shape[:2]
    k = rng.randrange(4)
    corner = page_box[k]
    centre = page_box.mean(axis=0)
    inward = (centre - corner) / max(1.0, float(np.linalg.norm(centre - corner)))
    page_w = float(np.linalg.norm(page_box[1] - page_box[0]))
    length, width = page_w * rng.uniform(0.16, 0.22), page_w * rng.uniform(0.07, 0.09)
    tip = corner + inward * page_w * rng.uniform(0.08, 0.11)
    base = tip - inward * length  # the thumb comes from outside the sheet
    mask = np.zeros((h, w), np.float32)
    cv2.line(mask, tuple(int(v) for v in base), tuple(int(v) for v in tip), 1.0,
             thickness=int(width))
    cv2.circle(mask, tuple(int(v) for v in tip), int(width / 2), 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), 3)[:, :, None]
    skin = np.array([rng.uniform(190, 225), rng.uniform(140, 170), rng.uniform(115, 140)],
                    np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    shading = 0.8 + 0.2 * np.sin(xx / max(1.0, width) + yy / max(1.0, width))
    finger = skin[None, None, :] * shading[:, :, None]
    return img * (1 - mask) + finger * mask


def photograph(page: Image.Image, rng: random.Random, kinds: tuple[str, ...]) -> tuple[bytes, str]:
    """Apply the chosen distortions; returns (encoded bytes, suffix)."""
    img = np.asarray(page, np.float32)
    h, w = img.shape[:2]
    if "curve" in kinds:
        img = _curve(img, rng)
    page_box = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    if "lowres" in kinds:
        s = rng.uniform(0.62, 0.7)
        img = cv2.resize(img, (int(w * s), int(h * s)), interpolation=cv2.INTER_AREA)
        h, w = img.shape[:2]
        page_box = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    if "perspective" in kinds:
        pad = int(0.12 * w)
        cw, ch = w + 2 * pad, h + 2 * pad
        desk = np.empty((ch, cw, 3), np.float32)
        desk[:] = ((rng.uniform(60, 120), rng.uniform(50, 95), rng.uniform(35, 70))
                   if "white_desk" not in kinds else
                   (rng.uniform(175, 205), rng.uniform(175, 205), rng.uniform(170, 200)))
        desk += np.random.default_rng(rng.randint(0, 2**31)).normal(
            0, 6, desk.shape).astype(np.float32)
        j = 0.06 * w
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        dst = np.float32([[pad + rng.uniform(-j, j), pad + rng.uniform(-j, j)],
                          [pad + w + rng.uniform(-j, j), pad + rng.uniform(-j, j)],
                          [pad + w + rng.uniform(-j, j), pad + h + rng.uniform(-j, j)],
                          [pad + rng.uniform(-j, j), pad + h + rng.uniform(-j, j)]])
        m = cv2.getPerspectiveTransform(src, dst)
        warped = cv2.warpPerspective(img, m, (cw, ch), flags=cv2.INTER_LINEAR,
                                     borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
        mask = cv2.warpPerspective(np.ones((h, w), np.float32), m, (cw, ch))[:, :, None]
        img = warped * mask + desk * (1 - mask)
        h, w = ch, cw
        page_box = dst
    elif "rotate" in kinds:
        angle = rng.uniform(-4, 4)
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        img = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255))
    if "light" in kinds:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        ang = rng.uniform(0, 2 * math.pi)
        grad = (xx * math.cos(ang) + yy * math.sin(ang)) / max(h, w)
        grad = (grad - grad.min()) / max(1e-6, float(grad.max() - grad.min()))
        light = rng.uniform(0.5, 0.65) + rng.uniform(0.3, 0.45) * grad
        img = img * light[:, :, None]
    if "shadow" in kinds:
        shade = np.ones((h, w), np.float32)
        x0 = rng.randint(0, w // 2)
        poly = np.int32([[x0, 0], [x0 + w // 3, 0], [x0 + w // 4, h], [x0 - w // 6, h]])
        cv2.fillPoly(shade, [poly], (rng.uniform(0.6, 0.75),))
        img = img * cv2.GaussianBlur(shade, (0, 0), 25)[:, :, None]
    if "hand_shadow" in kinds:
        img = _hand_shadow(img, rng)
    if "glare" in kinds:
        img = _glare(img, rng)
    if "finger" in kinds:
        img = _finger(img, rng, page_box)
    if "blur" in kinds:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.6, 1.1))
    if "noise" in kinds:
        img = img + np.random.default_rng(rng.randint(0, 2**31)).normal(
            0, rng.uniform(5, 11), img.shape)
    out = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    if "photo1280" in kinds:  # what a messenger app or a cheap phone hands over
        out.thumbnail((1280, 1280), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    if "jpeg60" in kinds:
        out.save(buf, "JPEG", quality=60)
        return buf.getvalue(), ".jpg"
    if "jpeg" in kinds or "perspective" in kinds or "photo1280" in kinds:
        out.save(buf, "JPEG", quality=rng.randint(40, 70) if "jpeg" in kinds else 88)
        return buf.getvalue(), ".jpg"
    out.save(buf, "PNG")
    return buf.getvalue(), ".png"


def make_sample(seed: int, lang: str | None = None, layout: int | None = None,
                kinds: tuple[str, ...] | None = None, seals: bool = True,
                overrides: dict[str, Any] | None = None) -> Sample:
    """A contract photo; `overrides` replaces generated field values (e.g. a credit code
    with a wrong check digit, or capitals that disagree with the figures)."""
    rng = random.Random(seed)
    if kinds is not None and "typo" in kinds:
        lang = "zh"
    lang = lang or ("zh" if rng.random() < 0.7 else "en")
    if layout is None:
        layout = rng.choice((0, 1)) if lang == "zh" else rng.choice((2, 3))
    fields = make_fields(rng, lang)
    fields.update(overrides or {})
    printed = fields
    if kinds is not None and "typo" in kinds:
        printed = misread_place(fields, lang, rng)
    page = render_page(printed, lang, layout, rng, seals=seals)
    if kinds is None:
        base = ["perspective", "light"] if rng.random() < 0.6 else ["rotate"]
        extra = rng.sample(["noise", "blur", "jpeg", "lowres", "shadow"], k=rng.randint(1, 3))
        kinds = tuple(base + extra)
    data, suffix = photograph(page, rng, kinds)
    misread = {k: v for k, v in printed.items() if v != fields[k]}
    return Sample(f"contract_{lang}{layout}_{seed}", lang, fields, page, data, suffix, kinds,
                  misread)


def misread_place(fields: dict[str, Any], lang: str, rng: random.Random) -> dict[str, Any]:
    """The fields as the page should show them for OCR to misread one character of the
    place name that begins a party's name (厦内 for 厦门). `fields` (the truth) gets that
    place name; the returned copy, the page's text, the misread. Chinese pages only."""
    if lang != "zh":
        raise ValueError("place-name misreads are drawn on Chinese pages")
    right, wrong = rng.choice(PLACE_MISREADS)
    side = rng.choice("ab")
    key = f"party_{side}_name"
    other = fields["party_b_name" if side == "a" else "party_a_name"]
    fields[key] = right + fields[key][2:]
    if fields[key] == other:
        fields[key] = right + fields[key][2:].replace("有限公司", "股份有限公司", 1)
    fields[f"party_{side}_uscc"] = make_uscc(rng, city=right)
    printed = dict(fields)
    printed[key] = wrong + fields[key][2:]
    return printed


def field_matches(field_name: str, got: Any, expected: Any) -> bool:
    if field_name == "amount":
        return (got is not None and expected is not None
                and abs(float(got) - float(expected)) < 0.005)
    return got == expected
