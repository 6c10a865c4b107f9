"""Sanctions monitor: news feeds in, one trustworthy alert per story out.

The packages follow the data, in the order it moves:

    ingest/    due feeds -> fetched bytes -> parsed entries -> Article (with full text)
    detect/    Article -> stored, matched against the rules, joined to a story
    alerting/  story + matches -> one alert per (rule, story), silences, routes -> outbox rows
    delivery/  outbox rows -> composed stages -> channels (Slack, email, webhook, console)
    store/     tables, migrations and the queries: the only shared state, the only SQL
    service/   the daemon around them: cycle, leases, replicas, retention, status, web, metrics
    cli/       the `monitor` command, one module per command group

`models` holds the plain data passed between stages; `errors` the one error family;
`config` the settings; `util` small helpers with no stage of their own.
"""

__version__ = "0.1.0"
