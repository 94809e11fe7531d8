"""scikit-learn's estimator convention for the stage objects that hold services.

:class:`~pipeline.topics.TopicModeler` and :class:`~pipeline.themes.ThemeMapper` are
``BaseEstimator``s (parameters in ``__init__`` stored as given, fitted state with a trailing
underscore set in ``fit``; ``get_params``, ``set_params``, ``sklearn.base.clone``). Some of
their parameters are services rather than settings: a loaded embedding model with its cache
connection, a lemmatiser bound to a spaCy pipeline. Deep-copying those (what ``clone`` does
to a parameter that is not an estimator) would load them again or fail, so a clone shares them.
"""

from __future__ import annotations

from typing import ClassVar

from sklearn.base import BaseEstimator, clone


class EstimatorWithServices(BaseEstimator):
    """A ``BaseEstimator`` whose parameters named in :attr:`services` are handed to a clone as
    they are; every other parameter is cloned as ``sklearn.base.clone`` clones it."""

    services: ClassVar[tuple[str, ...]] = ()

    def __sklearn_clone__(self):
        parameters = self.get_params(deep=False)
        return type(self)(
            **{name: value if name in self.services else clone(value, safe=False) for name, value in parameters.items()}
        )
