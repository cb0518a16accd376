"""The conferences capability: start-up conferences and the process meetings of a school year.

Importing the package registers its commands, buttons, forms, App Home section and due items.
"""

from bot.conferences import flows, notify  # noqa: F401  (they register on import)
