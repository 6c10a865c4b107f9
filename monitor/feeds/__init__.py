"""Getting articles in: fetch bytes (``fetch``), parse entries (``parse``), clean HTML and URLs."""
