"""The surveys capability: pulse surveys and quick polls, answered in Slack or through pupils' web links."""

from __future__ import annotations

from bot.interactions import Registry
from bot.surveys import flows
from bot.users import Role


def register(registry: Registry) -> None:
    """Every command, button, form, App Home section and due item of the surveys capability."""
    registry.command("poll", flows.poll_command, min_role=Role.lead, help_key="help.cmd.poll")
    registry.command("survey", flows.survey_command, min_role=Role.lead, help_key="help.cmd.survey")
    registry.command("results", flows.results_command, min_role=Role.lead, help_key="help.cmd.results")
    registry.home(20, flows.home)

    # Answering (anyone in the audience)
    registry.action("survey:answer", flows.on_answer)
    registry.action("survey:step", flows.on_step)
    registry.action("survey:goto", flows.on_goto)
    registry.action("survey:write", flows.on_write)
    registry.action("survey:form", flows.on_form)
    registry.form("survey:answers", flows.answers_submitted)
    # Lead-only: each function checks the role for every payload.
    registry.form("survey:create", flows.create_submitted)
    registry.action("survey:results", flows.on_results)
    registry.action("survey:nudge", flows.on_nudge)
    registry.action("survey:close", flows.on_close)
    registry.action("survey:close_confirmed", flows.on_close_confirmed)
    registry.action("survey:keep_open", flows.on_keep_open)
    registry.action("survey:stop", flows.on_stop)
    registry.action("survey:link", flows.on_link)
    registry.action("survey:unlink", flows.on_unlink)

    registry.due("survey.open", flows.due_open)
    registry.due("survey.post", flows.due_post)
    registry.due("survey.send", flows.due_send, paced=True)
    registry.due("survey.nudge", flows.due_nudge, paced=True)
    registry.due("survey.close", flows.due_close)
    registry.due("survey.summary", flows.due_summary)
    registry.due("survey.dm_closed", flows.due_dm_closed, paced=True)
