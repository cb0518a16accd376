"""What other capabilities may call: open surveys for a person, and sending a survey to people
(e.g. the conferences capability sends an evaluation after a meeting)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.db.upsert import insert_new
from bot.errors import UserError
from bot.scheduler import schedule_many
from bot.surveys import delivery, service
from bot.surveys.anonymity import respondent_hash
from bot.surveys.models import Anonymity, Audience, OpenSurvey, Status, SurveyDraft
from bot.surveys.tables import survey_audience, survey_keys, surveys
from bot.surveys.templates import load_templates
from bot.surveys.views import open_surveys_text
from bot.users import Actor

if TYPE_CHECKING:
    from bot.runtime import Bot

EVALUATION_TEMPLATE = "utvardering-traff"


async def open_surveys_for(bot: Bot, actor: Actor) -> list[OpenSurvey]:
    """Open surveys this person is asked to answer (or has answered), in their language; the answer to
    "vilka enkäter är öppna?"."""
    found = await service.open_for(bot.db, actor.user_id)
    return [OpenSurvey(id=survey.id, title=survey.title_in(actor.lang), closes_at=survey.closes_at,
                       answered=answered, question_count=len(survey.questions)) for survey, answered in found]


async def open_surveys_answer(bot: Bot, actor: Actor) -> str:
    """A ready mrkdwn answer to "vilka enkäter är öppna?" for the question capability."""
    return open_surveys_text(await open_surveys_for(bot, actor), actor.lang)


async def send_survey_to(bot: Bot, survey_id: int, user_ids: list[str]) -> int:
    """Add people to a survey's audience and DM them the survey (paced). A scheduled survey sends
    when it opens; returns how many DMs were queued now."""
    survey = await service.get_survey(bot.db, survey_id)
    if survey.status == Status.closed:
        raise UserError("surveys.answer.closed")
    users = list(dict.fromkeys(u for u in user_ids if u))
    now = bot.clock.now()
    async with bot.db.write() as conn:
        if survey.status == Status.scheduled:
            audience = survey.audience.model_copy(update={"users": list(dict.fromkeys(survey.audience.users + users))})
            await conn.execute(surveys.update().where(surveys.c.id == survey_id)
                               .values(audience=audience.model_dump()))
            return 0
        secret = (await conn.execute(select(survey_keys.c.secret).where(survey_keys.c.survey_id == survey_id))).scalar()
        if secret is None:
            raise UserError("surveys.answer.closed")
        known = set((await conn.execute(select(survey_audience.c.member).where(
            survey_audience.c.survey_id == survey_id))).scalars().all())
        fresh = {respondent_hash(secret, survey_id, u) for u in users} - known
        if fresh:
            await insert_new(conn, survey_audience, [{"survey_id": survey_id, "member": h} for h in sorted(fresh)],
                             key=["survey_id", "member"])
        await schedule_many(conn, "survey.send", [(service.due_key(survey_id, "send", user), now,
                                                   {"survey_id": survey_id, "user": user}) for user in users])
    return len(users)


async def create_evaluation(bot: Bot, actor: Actor, user_ids: list[str], closes_at: datetime,
                            title: str | None = None, template_id: str = EVALUATION_TEMPLATE) -> int:
    """An anonymous evaluation from a template, opened now and sent to the given people (leads only)."""
    template = load_templates(bot.settings.content_dir / "surveys").get(template_id)
    if template is None:
        raise UserError("surveys.invalid.unknown_template")
    lang = actor.lang
    draft = SurveyDraft(title=title or template.title[lang],
                        title_translations={} if title else {k: v for k, v in template.title.items() if k != lang},
                        lang=lang, questions=template.question_drafts(lang), audience=Audience(users=user_ids),
                        anonymity=Anonymity.anonymous, closes_at=closes_at, template=template.id)
    now = bot.clock.now()
    survey_id = await service.create_survey(bot.db, actor, draft, now)
    await delivery.open_survey(bot, survey_id, now)
    return survey_id
