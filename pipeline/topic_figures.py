"""BERTopic's own interactive views of a fitted topic model, as plotly JSON for report.html.

Made at fit time (:func:`pipeline.run.topic_figures`) and kept in
``RunResult.figures``, so a saved run re-exports them without BERTopic; the HTML writer
(:mod:`pipeline.writers.html`) draws them.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import warnings
from collections.abc import Callable

logger = logging.getLogger(__name__)

# The English words in BERTopic's figures a reader sees, in Danish.
_FIGURE_WORDS = [(re.compile(r"\bTopic\b"), "Emne"), (re.compile(r"\bSize\b"), "Størrelse"), (re.compile(r"\bWords\b"), "Ord")]


def _danish_figure(value, key: str = "", in_layout: bool = False):
    """BERTopic's English words in a figure dict ('Topic 3', 'Size') in Danish.

    Only texts meant for the reader change: the whole layout (titles, sliders, subplot
    titles) and the traces' hover templates and names, never data such as topic words.
    """
    if isinstance(value, dict):
        return {k: _danish_figure(v, k, in_layout or k == "layout") for k, v in value.items()}
    if isinstance(value, list):
        return [_danish_figure(v, key, in_layout) for v in value]
    if isinstance(value, str) and (in_layout or key in ("hovertemplate", "name", "hovertext")):
        for english, danish in _FIGURE_WORDS:
            value = english.sub(danish, value)
    return value


def _plotly_encoder():
    from plotly.utils import PlotlyJSONEncoder

    return PlotlyJSONEncoder


def bertopic_figures(topic_model, docs: list[str] | None = None) -> dict[str, str]:
    """BERTopic's interactive views of a fitted model as plotly JSON, by name.

    ``emnekort`` (``visualize_topics``), ``emneord`` (``visualize_barchart``) and
    ``hierarki`` (``visualize_hierarchy``; with ``docs``, the documents the model was
    fitted on, its inner nodes get their merged topics' words). A view BERTopic cannot
    draw for this corpus (too few topics for its UMAP or the linkage) is left out and
    logged; this never raises for an unclustered or tiny model.
    """
    if topic_model is None or getattr(topic_model, "topic_representations_", None) is None:
        return {}
    topics = sorted(topic for topic in topic_model.get_topics() if topic != -1)
    if not topics:
        return {}
    custom = getattr(topic_model, "custom_labels_", None) is not None

    def hierarchy():
        merged = None
        if docs is not None and len(docs) == len(topic_model.topics_):
            merged = topic_model.hierarchical_topics(list(docs))
        return topic_model.visualize_hierarchy(
            custom_labels=custom, title="", hierarchical_topics=merged, width=900, height=max(300, 60 + 45 * len(topics))
        )

    views: dict[str, Callable] = {
        "emnekort": lambda: topic_model.visualize_topics(custom_labels=custom, title="", width=650, height=560),
        "emneord": lambda: topic_model.visualize_barchart(
            top_n_topics=min(len(topics), 12), n_words=8, custom_labels=custom, title="", width=260, height=300
        ),
        "hierarki": hierarchy,
    }
    figures: dict[str, str] = {}
    for name, draw in views.items():
        try:
            # UMAP's notices on tiny inputs and the hierarchy's progress bar are noise here.
            with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
                warnings.simplefilter("ignore")
                figure = draw()
            figure.update_layout(separators=", ")
            figures[name] = json.dumps(_danish_figure(figure.to_plotly_json()), cls=_plotly_encoder())
        except Exception as error:  # noqa: BLE001 - a view that cannot be drawn must not stop the run
            logger.info("BERTopic-visningen '%s' er udeladt: %s: %s", name, type(error).__name__, error)
    return figures
