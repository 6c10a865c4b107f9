"""YAML rules: parsed with positions (``parse``), compiled into one matcher (``matcher``)."""

from monitor.rules.matcher import Match, MatchedSentence, Matcher
from monitor.rules.model import Problem, Rule
from monitor.rules.parse import RuleSetSource, load_rules

__all__ = [
    "Match", "MatchedSentence", "Matcher", "Problem", "Rule", "RuleSetSource", "load_rules",
]  # fmt: skip
