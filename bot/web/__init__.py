"""Web pages for pupils under Slack's age limit: a lead shares an unguessable link to a survey and
pupils answer it in a browser, through the same survey core as Slack (see app.py, links.py)."""
