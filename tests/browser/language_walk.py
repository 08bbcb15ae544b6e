"""A walk over the pages a signed-in user can reach, read as that user reads them: the
visible text of each page (its option labels, placeholders, buttons and tooltips too), the
English words left in a Chinese page, the money not printed as the ``money`` filter prints
it, and the pages that failed (an answer of 400 or more, a console error, the wrong
``<html lang>``).

English is found word by word, not by a list of known sentences: every run of Latin
letters is a word unless it is a code (it has a digit, ``@``, ``/``, ``.`` or ``_``: model
names, bill numbers, e-mails, paths), one letter, a name the data holds (customer codes and
names, usernames, project codes, providers, models…: ``data_words``), a code glossed in
Chinese right after it (``amount（贷方金额）``), a URL scheme, a date pattern (YYYY-MM), or a
proper name, acronym, unit or API term of ``PROPER``. A hyphenated word is English if one of its parts is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from django.apps import apps
from django.db import models

# Proper names, acronyms and units a Chinese page keeps as they are.
PROPER = frozenset(
    [
        "API",
        "APIs",
        "CSV",
        "XLSX",
        "PDF",
        "PDFs",
        "JSON",
        "USCC",
        "VAT",
        "CNY",
        "USD",
        "EUR",
        "ID",
        "IDs",
        "URL",
        "HTTP",
        "HTTPS",
        "SLA",
        "QPS",
        "CSP",
        "MTok",
        "Tok",
        "token",
        "tokens",
        "Batch",
        "OpenAI",
        "Anthropic",
        "Google",
        "DeepSeek",
        "Qwen",
        "Moonshot",
        "Kimi",
        "Zhipu",
        "GLM",
        "Claude",
        "GPT",
        "Gemini",
        "Haiku",
        "Sonnet",
        "Opus",
        "WeCom",
        "DingTalk",
        "Feishu",
        "Lark",
        "Slack",
        "Webhook",
        "nuonuo",
        "Nuonuo",
        "SMTP",
        "Celery",
        "Redis",
        "PostgreSQL",
        "Swagger",
        "OpenAPI",
        "English",
        "ACME",
        "BEIDOU",
        "NANHAI",
        "YUNQI",
        "Token",
        "UTC",
        "MB",
        "apprise",
        "genai-prices",
        "batch",
        "flex",
        "priority",
        "processing",
        "completions",
        "GBK",
        "newapi",
        "new-api",
    ]
)

# Fields whose values are names or codes people wrote, shown as they are in any language.
NAME_FIELDS = frozenset(
    [
        "code",
        "name",
        "prospect",
        "provider",
        "model",
        "username",
        "first_name",
        "last_name",
        "email",
        "key_id",
        "number",
        "payer_name",
        "file_name",
        "account",
        "bank_name",
        "legal_name",
        "short_name",
        "project",
        "customer",
        "secret_hint",
        "alias",
    ]
)
APPS = ("customers", "billing", "invoices", "banking", "gateways", "presales", "workspace", "auth")

WORD = re.compile(r"[A-Za-z][A-Za-z0-9._@/+'’-]*[A-Za-z0-9]|[A-Za-z]")
CODE = re.compile(r"[0-9@/._]")
DATE_PATTERN = re.compile(r"[YMDHhms]+(?:[-:][YMDHhms]+)*")

# The money filter's one format (common.admin_display.money_text): ¥1,234.50, -¥12.00.
MONEY = re.compile(r"-?¥\d{1,3}(?:,\d{3})*\.\d{2}(?![\d.])")
YUAN_SIGN = re.compile(r"¥")
# Other ways of writing CNY: 12.00 CNY, CNY 12.00, 12.00 元, RMB 12, CN¥, ￥.
EXCHANGE_RATE = re.compile(r"1 [A-Z]{3} = \d+(?:\.\d+)? CNY")
OTHER_MONEY = re.compile(
    r"\d[\d,]*(?:\.\d+)?\s*(?:CNY|RMB|元)(?![A-Za-z])|(?:CNY|RMB)\s*\d|CN¥|￥|(?<![A-Za-z])US\$|\$\s?\d"
)

VISIBLE_TEXT = """() => {
  const skip = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "CODE", "PRE", "KBD", "SAMP", "TEXTAREA"]);
  const out = [];
  const seen = (el) => {
    for (let e = el; e; e = e.parentElement) {
      if (skip.has(e.tagName) || e.getAttribute("translate") === "no") return false;
    }
    return true;
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.nodeValue.replace(/\\s+/g, " ").trim();
    const el = node.parentElement;
    if (!text || !el || !seen(el)) continue;
    const shown = el.closest("option, select, details") !== null || el.checkVisibility();
    if (shown) out.push(text);
  }
  for (const el of document.querySelectorAll("[placeholder], [title], input[type=submit], input[type=button]")) {
    if (!seen(el) || !el.checkVisibility()) continue;
    for (const value of [el.getAttribute("placeholder"), el.getAttribute("title"),
                         el.matches("input") ? el.value : null]) {
      if (value && value.trim()) out.push(value.trim());
    }
  }
  return out;
}"""

LINKS = """(scope) => Array.from(document.querySelectorAll(":is(" + scope + ") a[href]"))
  .filter((a) => a.checkVisibility() || a.closest("details") !== null)
  .map((a) => a.href)"""

NOT_PAGES = re.compile(
    r"logout|/pdf/|\.pdf$|download|format=(csv|xlsx)|/export|\.csv|\.xlsx|/jsi18n/|^/api/|^/i18n/"
    r"|^/media/|^/documents/|^/admin/r/|^/static/|/delete/|/password/|/history/|[?&](o|p|q|_changelist_filters)="
)


def data_words() -> set[str]:
    """The Latin words of the names and codes the database holds (not of choice fields,
    not of free text): they are shown as written in every language."""
    words: set[str] = set()
    for model in apps.get_models():
        if model._meta.app_label not in APPS:
            continue
        names = [
            f.name
            for f in model._meta.get_fields()
            if isinstance(f, models.CharField) and not f.choices and f.name in NAME_FIELDS
        ]
        for name in names:
            for value in model._default_manager.values_list(name, flat=True).distinct()[:2000]:
                words.update(WORD.findall(str(value or "")))
    return words


def english_words(text: str, allowed: set[str]) -> list[str]:
    found = []
    for match in WORD.finditer(text):
        word = match.group(0)
        if text.startswith(("://", "（"), match.end()) or DATE_PATTERN.fullmatch(word):
            continue  # a URL's scheme (wecombot://…), a code glossed in Chinese (amount（贷方金额）), YYYY-MM
        if len(word) == 1 or word in allowed or word in PROPER or CODE.search(word):
            continue
        parts = [p for p in re.split(r"[-'’]", word) if len(p) > 1]
        if any(p not in allowed and p not in PROPER for p in parts):
            found.append(word)
    return found


def money_faults(text: str) -> list[str]:
    text = EXCHANGE_RATE.sub("", text)  # a rate (1 USD = 7.1 CNY) is no amount
    faults = [m.group(0) for m in OTHER_MONEY.finditer(text)]
    good = {m.start() + (m.group(0)[0] == "-") for m in MONEY.finditer(text)}
    for sign in YUAN_SIGN.finditer(text):
        if sign.start() not in good:
            faults.append(text[max(0, sign.start() - 3) : sign.start() + 14])
    return faults


def shape(url: str) -> tuple:
    """A page's kind: its path with ids and numbers replaced, and its query's keys."""
    parts = urlsplit(url)
    path = re.sub(r"/[^/]*\d[^/]*(?=/)", "/#", parts.path)
    return path, tuple(sorted({k for k, _v in parse_qsl(parts.query)}))


@dataclass
class Walk:
    """What one audience's walk found in one language."""

    language: str
    allowed: set[str]
    pages: list[str] = field(default_factory=list)
    english: dict[str, set[str]] = field(default_factory=dict)
    money: dict[str, set[str]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def read(self, page, url: str) -> None:
        errors: list[str] = []
        listener = lambda m: errors.append(m.text) if m.type == "error" else None  # noqa: E731
        page.on("console", listener)
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            answer = page.goto(url)
            page.wait_for_load_state("load")
        finally:
            page.remove_listener("console", listener)
        path = urlsplit(page.url).path + (f"?{urlsplit(page.url).query}" if urlsplit(page.url).query else "")
        self.pages.append(path)
        if answer is None or answer.status >= 400:
            self.failures.append(f"{path}: HTTP {answer.status if answer else '?'}")
            return
        lang = page.locator("html").get_attribute("lang")
        if lang != self.language:
            self.failures.append(f"{path}: <html lang={lang}>")
        self.failures.extend(f"{path}: console: {e}" for e in errors)
        for text in page.evaluate(VISIBLE_TEXT):
            if self.language != "en":
                for word in english_words(text, self.allowed):
                    self.english.setdefault(word, set()).add(f"{path}: {text[:90]}")
            for fault in money_faults(text):
                self.money.setdefault(fault, set()).add(f"{path}: {text[:90]}")

    def crawl(self, page, base: str, starts: list[str], scopes: dict[str, str], limit: int = 80) -> None:
        """Read the start pages, then every page their links under ``scopes`` (a URL prefix →
        the CSS scope its links are taken from) lead to, one page of each kind."""
        queue = [base + s for s in starts]
        kinds: set[tuple] = set()
        while queue and len(self.pages) < limit:
            url = queue.pop(0)
            kind = shape(url)
            if kind in kinds:
                continue
            kinds.add(kind)
            self.read(page, url)
            here = urlsplit(page.url).path
            for prefix, scope in scopes.items():
                if not here.startswith(prefix):
                    continue
                for link in page.evaluate(LINKS, scope):
                    target = urlsplit(link)
                    if target.netloc != urlsplit(base).netloc or NOT_PAGES.search(target.path + "?" + target.query):
                        continue
                    if any(target.path.startswith(p) for p in scopes) and shape(link) not in kinds:
                        queue.append(link.split("#")[0])

    def report(self) -> str:
        lines = [f"{len(self.pages)} pages in {self.language}"]
        lines += [f"FAIL {f}" for f in self.failures]
        lines += [f"ENGLISH {w!r}: {sorted(where)[:3]}" for w, where in sorted(self.english.items())]
        lines += [f"MONEY {m!r}: {sorted(where)[:3]}" for m, where in sorted(self.money.items())]
        return "\n".join(lines)
