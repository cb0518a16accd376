"""The conferences capability: start-up conferences and the process meetings of a school year."""

from __future__ import annotations

from bot.conferences import flows, notify
from bot.interactions import Registry
from bot.users import Role


def register(registry: Registry) -> None:
    """Every command, button, form, App Home section and due item of the conferences capability."""
    registry.command("conference", flows.conference_command, min_role=Role.lead, help_key="conf.help.create")
    registry.command("series", flows.series_command, min_role=Role.lead, help_key="conf.help.series")
    registry.command("conferences", flows.list_command, help_key="conf.help.list")
    registry.command("calendar", flows.calendar_command, help_key="conf.help.calendar")
    registry.home(30, flows.home_section)

    registry.action("conf:yes", flows.on_rsvp_yes)
    registry.action("conf:no", flows.on_rsvp_no)
    registry.action("conf:maybe", flows.on_rsvp_maybe)
    registry.action("conf:ics", flows.on_calendar_file)
    # Lead-only: each function checks the role for every payload.
    registry.action("conf:attendees", flows.on_attendees)
    registry.action("conf:csv", flows.on_attendance_csv)
    registry.action("conf:announce", flows.on_announce)
    registry.action("conf:edit", flows.on_edit)
    registry.action("conf:cancel", flows.on_cancel)

    registry.form("conf:create", flows.create_submitted)
    registry.form("conf:series", flows.series_submitted)
    registry.form("conf:edit", flows.edit_submitted)
    registry.form("conf:cancel", flows.cancel_submitted)

    registry.due("conf.invite", notify.send_invitation, paced=True)
    registry.due("conf.reminder", notify.fan_out_reminder)
    registry.due("conf.remind", notify.send_reminder, paced=True)
    registry.due("conf.notify", notify.send_notice, paced=True)
    registry.due("conf.evaluation", notify.send_evaluation)
