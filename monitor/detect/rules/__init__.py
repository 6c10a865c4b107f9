"""YAML rules: parsed with positions (``parse``), compiled into one matcher (``matcher``)."""

from monitor.detect.rules.matcher import Match, MatchedSentence, Matcher
from monitor.detect.rules.model import Problem, Rule
from monitor.detect.rules.parse import RuleSetSource, load_rules

__all__ = [
    "Match", "MatchedSentence", "Matcher", "Problem", "Rule", "RuleSetSource", "load_rules",
]  # fmt: skip
