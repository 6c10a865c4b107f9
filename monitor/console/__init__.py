"""The analyst console: stories in a browser, and analysts' verdicts on what the rules cited.

In:  HTTP requests on the daemon's server (``service/web.py`` hands over every path other than
     /healthz, /readyz and /metrics), the store, and the live rules.
Out: server-rendered pages (``/``, ``/stories/<id>``, ``/rules/<id>``), the JSON API under
     ``/api/``, and verdicts and silences written to the store; ``monitor feedback export``
     turns the verdicts into rule examples (``feedback.py``).

    build.py    the console from the settings: credentials, and the loopback-only default
    app.py      the guard, then the route table
    auth.py     credentials, CSRF tokens for forms, Origin checks for the API, Host checks
    views.py    the pages and their forms; api.py the same data as JSON
    data.py     what each page shows, from the store (queries in store/console.py)
    inputs.py   filters and verdicts as analysts send them, checked
    actions.py  a verdict, a silence
    render.py   templates (autoescaped), matched terms in <mark>, the hits chart
    http.py     requests and responses as plain data; the security headers
"""

from monitor.console.app import Console
from monitor.console.build import build_console

__all__ = ["Console", "build_console"]
