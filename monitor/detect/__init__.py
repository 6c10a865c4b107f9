"""Detect: store new articles, match them against the rules, join them to stories.

In: a feed's :class:`monitor.models.Article` batch. Out: stored articles, their matches, and the
story each belongs to, passed on to ``alerting`` within the same transaction.
"""
