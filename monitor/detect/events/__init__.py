"""The event matcher: which story a news report belongs to, when outlets write their own.

Independent reports of one event share few word sequences but the same telling words (names,
places, vessels, figures), so an article becomes a sparse TF-IDF vector (:mod:`.vectors`) over
its content words (:mod:`.terms`), after boilerplate is stripped (:mod:`.boilerplate`), with
each word weighted by its rarity in the news taken in so far (:mod:`.rarity`). It joins the
story whose centroid it is closest to (:mod:`.index`), unless the two name different vessels
(:mod:`.identifiers`) or the report's lead names a day after the story's reports (:mod:`.days`).
"""
