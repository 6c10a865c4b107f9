"""Small helpers with no stage of their own: dates, durations, text, YAML positions, failpoints."""
