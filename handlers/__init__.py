"""The Slack side: Bolt listeners (`slack_app.py`), the ack and delivery rules (`delivery.py`), Block Kit
rendering of the core's UI model (`blocks.py`) and the Messenger over the Web API (`messenger.py`).

These modules never import slack_bolt or slack_sdk themselves: the app and its client are handed in by
`bot/slack_main.py`. Each capability's buttons and forms are registered in the core
(`bot/<capability>/__init__.py`), so nothing here changes when a capability adds one.
"""
