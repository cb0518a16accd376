"""The project team's data: reports over time, exports, and privacy controls (retention, "my data",
"forget me", the audit log). Reports read the other capabilities' data; nothing imports reports."""

from __future__ import annotations

from bot.interactions import Registry
from bot.reports import flows, privacy
from bot.reports import tables as _tables  # noqa: F401  (its tables join the shared metadata)
from bot.users import Role


def register(registry: Registry) -> None:
    """Every command, button, App Home section and due item of the reports capability."""
    registry.command("export", flows.export_command, min_role=Role.lead, help_key="report.help.export")
    registry.command("report", flows.report_command, min_role=Role.lead, help_key="report.help.report")
    registry.command("mydata", flows.mydata_command, help_key="report.help.mydata")
    registry.command("forget", flows.forget_command, help_key="report.help.forget")
    registry.command("audit", flows.audit_command, min_role=Role.lead, help_key="report.help.audit")
    registry.home(90, flows.home_section)

    registry.action("report:forget", flows.on_forget)
    registry.action("report:keep", flows.on_keep)
    registry.action("report:mydata", flows.on_my_data)
    # Lead-only: each function checks the role (and audits a refusal) for every payload.
    registry.action("report:menu", flows.on_export_menu)
    registry.action("report:audit", flows.on_audit)
    registry.action("report:report", flows.on_report)
    registry.action("report:export", flows.on_export)

    registry.due(privacy.PURGE_KIND, privacy.run_purge)
    registry.on_loop_start(privacy.ensure_daily_purge)
