"""Alerting: one alert per (rule, story), every source a citation; silences and routes.

In: a story and the rules its articles matched. Out: alert and citation rows, and the outbox
rows (one per channel a route picks) that ``delivery`` sends.
"""
