"""tematik's BERTopic representation models: a topic's words and its name.

BERTopic's ``representation_model`` is the seam (:class:`pipeline.topics.TopicModeler`):
:class:`ReadableWords` is the main aspect (the topic words a reader sees),
:class:`PhraseRepresentation` the ``"Navn"`` aspect (the name, by
:class:`pipeline.naming.PhraseNamer`). ``KeyBERTInspired``, ``MaximalMarginalRelevance`` or
any other BERTopic representation can take either place.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from pipeline.naming import NO_NAME, PhraseNamer, lemma_of, name_stop_words, seeded_sample
from pipeline.numba_cache import import_bertopic

import_bertopic()  # bertopic without torch, with numba's cache
from bertopic.representation import BaseRepresentation  # noqa: E402


class PhraseRepresentation(BaseRepresentation):
    """:class:`PhraseNamer` as a BERTopic representation model: a topic's names, best first.

    BERTopic hands representations the documents it was fitted on; tematik fits on lemma
    strings, so ``texts`` (the surface text of each document, by BERTopic's document
    ``ID``) and ``embeddings`` (row-aligned) give the namer what it reads; without them it
    reads the documents and embeds them with the topic model's embedding model.
    ``embedder``: embeds candidate phrases (a :class:`pipeline.embeddings.Embedder`;
    default the topic model's embedding model).
    """

    def __init__(self, texts=None, embeddings=None, embedder=None, namer: PhraseNamer | None = None):
        self.texts = texts
        self.embeddings = embeddings
        self.embedder = embedder
        self.namer = namer

    def extract_topics(self, topic_model, documents, c_tf_idf, topics):
        ids = documents["ID"].to_numpy() if "ID" in documents.columns else np.arange(len(documents))
        texts = [self.texts[i] for i in ids] if self.texts is not None else documents["Document"].astype(str).tolist()
        backend = topic_model.embedding_model
        if self.embeddings is not None:
            vectors = np.asarray(self.embeddings)[ids]
        else:
            vectors = backend.embed(texts)
        if self.embedder is not None:
            embed = self.embedder.embed
        elif backend is not None:
            embed = backend.embed
        else:
            embed = None
        labels = documents["Topic"].astype(int).tolist()
        sizes = Counter(labels)
        order = sorted((t for t in topics if t != -1), key=lambda t: (-sizes.get(t, 0), t))
        named = (self.namer or PhraseNamer()).name_groups(texts, labels, vectors, embed, order=order)
        return {topic: named.get(topic) or [(NO_NAME, 0.0)] for topic in topics}


class ReadableWords(BaseRepresentation):
    """BERTopic's topic words (c-TF-IDF lemmas) as a reader can trust them, a representation model.

    From each topic's c-TF-IDF words, best first: a lemma used by a single text of the whole
    corpus is dropped (a typo, "egergitab"), and so are English words in a Danish topic
    ("and", "attract"; kept when they are most of its words); a fixed expression
    (:data:`pipeline.lexicon.FIXED_EXPRESSIONS`) that at least two of the topic's texts use,
    and that accounts for at least half of the uses of one of its words, takes that word's
    place whole ("højt til loftet" instead of "loft"). ``texts``: the surface text of each
    document, by BERTopic's document ``ID`` (without them no expression is kept whole);
    expressions are looked for in a seeded sample of at most ``max_texts`` of a topic's texts.
    """

    def __init__(self, texts=None, top_n_words: int = 10, max_texts: int = 500):
        self.texts = texts
        self.top_n_words = top_n_words
        self.max_texts = max_texts

    def extract_topics(self, topic_model, documents, c_tf_idf, topics):
        from pipeline.lexicon import FIXED_EXPRESSIONS, english_words

        candidates = sorted({word for pairs in topics.values() for word, _ in pairs if word})
        matrix, column_of = self._document_lemmas(documents)
        columns = {word: column_of[word] for word in candidates if word in column_of}
        used_by = matrix[:, list(columns.values())].tocsc()  # documents x candidate lemmas, binary
        frequency = Counter(dict(zip(columns, np.asarray(used_by.sum(axis=0)).ravel().tolist())))
        position = {word: k for k, word in enumerate(columns)}
        english = english_words()
        ids = documents["ID"].to_numpy() if "ID" in documents.columns else np.arange(len(documents))
        texts = [self.texts[i] for i in ids] if self.texts is not None else None
        labels = documents["Topic"].to_numpy()
        _, not_content = name_stop_words()
        expressions = {
            expression: (re.compile(r"(?<!\w)" + re.escape(expression) + r"(?!\w)"),
                         {lemma_of(word) for word in expression.split() if word not in not_content})
            for expression in FIXED_EXPRESSIONS
        }  # fmt: skip
        result = {}
        for topic, pairs in topics.items():
            words = [(word, score) for word, score in pairs if word and frequency[word] >= 2]
            foreign = [word in english for word, _ in words[: self.top_n_words]]
            if foreign and sum(foreign) * 2 < len(foreign):
                words = [(word, score) for word, score in words if word not in english]
            if texts is not None:
                members = seeded_sample(np.flatnonzero(labels == topic), self.max_texts).tolist()
                for expression, (pattern, lemmas) in expressions.items():
                    at = next((n for n, (word, _) in enumerate(words) if word in lemmas), None)
                    if at is None:
                        continue
                    users = [k for k in members if pattern.search(str(texts[k]).casefold())]
                    if len(users) < 2:
                        continue
                    word = words[at][0]
                    uses = int(used_by[members, position[word]].sum()) if word in position else 0
                    if 2 * len(users) >= uses:
                        score = words[at][1]
                        words = [(w, s) for w, s in words if w not in lemmas]
                        words.insert(at, (expression, score))
            result[topic] = words[: self.top_n_words] or pairs[: self.top_n_words]
        return result

    def _document_lemmas(self, documents):
        """``(binary documents x lemmas matrix, {lemma: column})`` of ``documents``' rows (lemmas: the
        document split at whitespace). BERTopic's hierarchy asks for each merge's words with a subset
        of the fitted documents (117 merges at 100,000 answers: 1 million documents split and
        matched, 3.5 s); the corpus's matrix is kept from the first call that holds all of it, and a
        subset whose documents are the same at the same ``ID``s takes its rows."""
        from scipy.sparse import csr_matrix
        from sklearn.feature_extraction.text import CountVectorizer

        docs = documents["Document"].astype(str).to_numpy(dtype=object)
        ids = documents["ID"].to_numpy() if "ID" in documents.columns else None
        corpus = getattr(self, "_corpus", None)
        if ids is not None and corpus is not None and len(ids) and ids.max() < len(corpus[0]) and np.array_equal(corpus[0][ids], docs):
            return corpus[1][ids], corpus[2]
        counted = CountVectorizer(token_pattern=r"\S+", lowercase=False, binary=True)
        try:
            matrix, vocabulary = counted.fit_transform(docs).tocsr(), counted.vocabulary_
        except ValueError:  # no document has a lemma
            return csr_matrix((len(docs), 0)), {}
        if ids is not None and len(ids) and np.array_equal(np.sort(ids), np.arange(len(ids))):  # the whole corpus
            order = np.argsort(ids)
            self._corpus = (docs[order], matrix[order], vocabulary)
        return matrix, vocabulary

