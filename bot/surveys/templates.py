"""Ready-made surveys in `content/surveys/*.yaml`, each in Swedish and English.

`check_templates(dir)` returns one readable line per problem (file and field), for `samsyv content
check`; `load_templates(dir)` returns the valid templates and skips broken ones, so one bad file never
takes the survey form down.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.settings import LANGUAGES, WEB_LANGUAGES
from bot.surveys.models import (
    MAX_TITLE,
    Anonymity,
    QuestionDraft,
    QuestionKind,
    QuestionText,
)
from bot.surveys.validation import question_problem

log = logging.getLogger(__name__)

Texts = dict[str, str]


def _both_languages(value: dict[str, Any]) -> dict[str, Any]:
    missing = [lang for lang in LANGUAGES if lang not in value]
    if missing:
        raise ValueError(f"missing language(s): {', '.join(missing)}")
    extra = [lang for lang in value if lang not in WEB_LANGUAGES]
    if extra:
        raise ValueError(f"unknown language(s): {', '.join(extra)}")
    return value


class TemplateQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: QuestionKind
    text: Texts
    options: dict[str, list[str]] = Field(default_factory=dict)
    low_label: Texts | None = None
    high_label: Texts | None = None

    @field_validator("text", "low_label", "high_label")
    @classmethod
    def _texts(cls, value: Texts | None) -> Texts | None:
        return None if value is None else _both_languages(value)

    @field_validator("options")
    @classmethod
    def _options(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        if value:
            _both_languages(value)
            counts = {len(options) for options in value.values()}
            if len(counts) != 1:
                raise ValueError("every language needs the same number of options")
        return value

    def text_in(self, lang: str) -> QuestionText:
        """The question in `lang`; options and end labels fall back to Swedish where not translated."""
        return QuestionText(text=self.text[lang], options=self.options.get(lang, self.options.get("sv", [])),
                            low_label=(self.low_label or {}).get(lang, (self.low_label or {}).get("sv")),
                            high_label=(self.high_label or {}).get(lang, (self.high_label or {}).get("sv")))

    def draft(self, lang: str) -> QuestionDraft:
        own = self.text_in(lang)
        # Slack shows sv and en; the pupils' page also any of its languages the template translates.
        others = {other: self.text_in(other) for other in WEB_LANGUAGES
                  if other != lang and other in self.text}
        return QuestionDraft(kind=self.kind, text=own.text, options=own.options, low_label=own.low_label,
                             high_label=own.high_label, translations=others)


class Template(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    title: Texts
    description: Texts
    audience: str = Field(pattern=r"^(staff|pupils|participants)$")  # who it is written for
    anonymity: Anonymity = Anonymity.anonymous
    questions: list[TemplateQuestion] = Field(min_length=1, max_length=10)

    @field_validator("title", "description")
    @classmethod
    def _texts(cls, value: Texts) -> Texts:
        _both_languages(value)
        if any(len(text) > MAX_TITLE for text in value.values()):
            raise ValueError(f"longer than {MAX_TITLE} characters")
        return value

    def question_drafts(self, lang: str) -> list[QuestionDraft]:
        return [question.draft(lang) for question in self.questions]


def _template_problems(template: Template) -> list[str]:
    """Rules beyond the schema: the same as for a survey a lead writes, in every language."""
    problems: list[str] = []
    for index, question in enumerate(template.questions):
        for lang in LANGUAGES:
            own = question.text_in(lang)
            draft = QuestionDraft(kind=question.kind, text=own.text, options=own.options,
                                  low_label=own.low_label, high_label=own.high_label)
            problem = question_problem(draft, index + 1)
            if problem is not None:
                problems.append(f"questions[{index}].{lang}: {problem.render('en')}")
        if question.kind == QuestionKind.scale5 and (question.low_label is None or question.high_label is None):
            problems.append(f"questions[{index}].low_label: a 1-5 scale needs end labels")
    return problems


def _parse(path: Path) -> tuple[Template | None, list[str]]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        return None, [f"{path}: cannot read: {exc}"]
    try:
        template = Template.model_validate(raw)
    except ValidationError as exc:
        return None, [f"{path}: {'.'.join(str(p) for p in error['loc']) or '(file)'}: {error['msg']}"
                      for error in exc.errors()]
    return template, [f"{path}: {problem}" for problem in _template_problems(template)]


def check_templates(directory: Path) -> list[str]:
    """Every problem in every template file, as 'file: field: message'; empty when all is well."""
    problems: list[str] = []
    seen: dict[str, Path] = {}
    files = sorted(directory.glob("*.yaml")) if directory.is_dir() else []
    if not files:
        return [f"{directory}: no survey templates (*.yaml)"]
    for path in files:
        template, found = _parse(path)
        problems.extend(found)
        if template is not None:
            if template.id in seen:
                problems.append(f"{path}: id: '{template.id}' is also used by {seen[template.id]}")
            seen[template.id] = path
    return problems


def load_templates(directory: Path) -> dict[str, Template]:
    """The valid templates by id, in file order."""
    templates: dict[str, Template] = {}
    for path in sorted(directory.glob("*.yaml")) if directory.is_dir() else []:
        template, problems = _parse(path)
        if problems or template is None:
            log.warning("skipping survey template %s: %s", path, "; ".join(problems))
            continue
        templates.setdefault(template.id, template)
    return templates
