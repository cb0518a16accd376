"""The project team's data: reports over time, exports, and privacy controls (retention, "my data",
"forget me", the audit log). Importing the package registers its commands, buttons, due items and
App Home section, and plans the daily retention purge when the due-items loop starts."""

from bot import scheduler
from bot.reports import flows, privacy, tables  # noqa: F401  (register on import)

if privacy.ensure_daily_purge not in scheduler.loop_starters:
    scheduler.loop_starters.append(privacy.ensure_daily_purge)
