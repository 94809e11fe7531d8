"""Text weights, weighted theme shares and their bootstrap intervals."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from pipeline.config import WeightConfig
from pipeline.weighting import frequency_tables, text_weights, theme_frequencies, with_text_weights

THEMES = ["arbejdskraft", "iværksætteri", "groen", "innovation", "digital", "international"]
ALL = THEMES + ["andet"]


def make_assignments(n: int, seed: int = 0, shares: list[float] | None = None) -> pd.DataFrame:
    """Random texts over two workshops and three questions with soft theme memberships."""
    rng = np.random.default_rng(seed)
    # "international" never occurs: zero-text themes must still be reported.
    shares = shares or [0.3, 0.1, 0.25, 0.1, 0.15, 0.0, 0.1]
    assigned = rng.choice(len(ALL), size=n, p=shares)
    membership = rng.dirichlet(np.ones(len(ALL)), n) * 0.3 * (np.asarray(shares) > 0)
    membership[np.arange(n), assigned] += 1.0
    membership /= membership.sum(axis=1, keepdims=True)
    frame = pd.DataFrame(
        {
            "text_id": [f"t:{i}" for i in range(n)],
            "text": [f"svar {i}" for i in range(n)],
            "source_file": "svar.xlsx",
            "source_kind": rng.choice(["mentimeter", "note", "table"], size=n, p=[0.7, 0.2, 0.1]),
            "question": rng.choice(["Styrker", "Svagheder", "Idéer"], size=n),
            "workshop": rng.choice(["Aalborg", "Hjørring"], size=n, p=[0.75, 0.25]),
            "weight": rng.integers(1, 4, size=n).astype(float),
            "theme": np.asarray(ALL)[assigned],
        }
    )
    for j, theme in enumerate(ALL):
        frame[f"p_{theme}"] = membership[:, j]
    return frame


def test_without_balancing_text_weight_is_voices_times_source_kind_weight():
    frame = make_assignments(60)
    config = WeightConfig(source_shares=None, source_kind_weights={"mentimeter": 1.0, "note": 5.0})
    weights = text_weights(frame, config)
    expected = frame["weight"] * frame["source_kind"].map({"mentimeter": 1.0, "note": 5.0, "table": 1.0})
    np.testing.assert_allclose(weights, expected)  # kinds not listed ("table") weigh 1
    assert weights.index.equals(frame.index)
    weighted = with_text_weights(frame, config)
    np.testing.assert_allclose(weighted["weight"], expected)
    np.testing.assert_allclose(weighted["voices"], frame["weight"])


def test_workshop_normalisation_equalises_totals_and_keeps_the_scale():
    frame = make_assignments(200)
    plain = text_weights(frame, WeightConfig(source_shares=None))
    normalised = text_weights(frame, WeightConfig(source_shares=None, normalise_workshops=True))
    before, after = plain.groupby(frame["workshop"]).sum(), normalised.groupby(frame["workshop"]).sum()
    assert before["Aalborg"] > 2 * before["Hjørring"]
    assert after["Aalborg"] == pytest.approx(after["Hjørring"])
    assert after.mean() == pytest.approx(before.mean())
    # Within a workshop the texts keep their relative weights.
    aalborg = frame["workshop"] == "Aalborg"
    np.testing.assert_allclose(normalised[aalborg] / plain[aalborg], after["Aalborg"] / before["Aalborg"])


def test_shares_sum_to_one_and_every_theme_is_reported():
    frame = make_assignments(300)
    for by in (None, "workshop", "question", "source_kind"):
        table = theme_frequencies(frame, THEMES, WeightConfig(n_bootstrap=50), by=by)
        groups = [table] if by is None else [group for _, group in table.groupby(by)]
        for group in groups:
            assert group["theme"].tolist() == ALL  # taxonomy order, andet last, zero-text themes kept
            assert group["share"].sum() == pytest.approx(1.0)
    total = theme_frequencies(frame, THEMES, WeightConfig(n_bootstrap=50))
    international = total.set_index("theme").loc["international"]
    assert international["n_texts"] == 0 and international["share"] == 0
    assert total["n_texts"].sum() == len(frame)
    np.testing.assert_allclose(total["weighted_frequency"].sum(), frame["weight"].sum())


def test_each_text_counts_to_its_decided_theme_and_soft_memberships_on_request():
    frame = make_assignments(3).assign(weight=[2.0, 1.0, 1.0], theme=["groen", "digital", "andet"])
    for theme in ALL:
        frame[f"p_{theme}"] = 0.0
    frame.loc[0, ["p_groen", "p_digital"]] = [0.6, 0.4]
    frame.loc[1, "p_digital"] = 1.0
    frame.loc[2, ["p_andet", "p_groen"]] = [0.55, 0.45]  # fits no theme, but leans toward one
    # Default (classify and count): the andet text gives nothing to "groen".
    table = theme_frequencies(frame, THEMES, WeightConfig(n_bootstrap=20)).set_index("theme")
    assert table.loc["groen", "weighted_frequency"] == pytest.approx(2.0)
    assert table.loc["andet", "share"] == pytest.approx(0.25)
    # The soft estimator splits texts by their memberships (tematik's first formula).
    soft = theme_frequencies(frame, THEMES, WeightConfig(n_bootstrap=20, estimator="probabilistic")).set_index("theme")
    assert soft.loc["groen", "weighted_frequency"] == pytest.approx(1.2 + 0.45)
    assert soft.loc["digital", "weighted_frequency"] == pytest.approx(0.8 + 1.0)
    assert soft.loc["andet", "share"] == pytest.approx(0.55 / 4)


def test_a_text_of_weight_three_counts_as_three_copies():
    frame = make_assignments(40).assign(weight=1.0)
    heavy = frame.copy()
    heavy.loc[0, "weight"] = 3.0
    copies = pd.concat([frame, frame.iloc[[0, 0]]], ignore_index=True)
    config = WeightConfig(n_bootstrap=20)
    a, b = theme_frequencies(heavy, THEMES, config), theme_frequencies(copies, THEMES, config)
    np.testing.assert_allclose(a["weighted_frequency"], b["weighted_frequency"])
    np.testing.assert_allclose(a["share"], b["share"])
    assert b["n_texts"].sum() == a["n_texts"].sum() + 2  # n_texts counts rows, not voices


def balanced_frame(n_answers: int, n_notes: int, n_table: int = 0, workshop: str = "Aalborg", seed: int = 0) -> pd.DataFrame:
    """Answers all about "groen", note passages all about "digital", so shares show the source balance."""
    rng = np.random.default_rng(seed)
    kinds = ["mentimeter"] * n_answers + ["table"] * n_table + ["note"] * n_notes
    frame = pd.DataFrame(
        {
            "text_id": [f"{workshop}:{i}" for i in range(len(kinds))],
            "text": "tekst",
            "source_file": "f",
            "source_kind": kinds,
            "question": "Q",
            "workshop": workshop,
            "weight": rng.integers(1, 5, size=len(kinds)).astype(float),
            "theme": ["digital" if kind == "note" else "groen" for kind in kinds],
        }
    )
    for theme in ALL:
        frame[f"p_{theme}"] = (frame["theme"] == theme).astype(float)
    return frame


def note_share(frame: pd.DataFrame, config: WeightConfig) -> float:
    weights = text_weights(frame, config)
    return weights[frame["source_kind"] == "note"].sum() / weights.sum()


def test_the_notes_share_of_the_headline_weight_is_the_configured_one():
    frame = balanced_frame(n_answers=150, n_notes=40, n_table=20)
    voices = frame["weight"].sum()
    assert frame.loc[frame["source_kind"] == "note", "weight"].sum() / voices < 0.25  # far from half by counts
    assert note_share(frame, WeightConfig()) == pytest.approx(0.5)  # default: answers and note count equally
    assert note_share(frame, WeightConfig(source_shares={"deltagere": 3.0, "notat": 1.0})) == pytest.approx(0.25)
    weights = text_weights(frame, WeightConfig())
    assert weights.sum() == pytest.approx(voices)  # the scale stays "voices"
    # Within a group texts weigh by their voices: Mentimeter and table answers alike.
    answers = frame["source_kind"] != "note"
    np.testing.assert_allclose(weights[answers] / frame.loc[answers, "weight"], weights[answers].sum() / frame.loc[answers, "weight"].sum())
    # The headline table shows it: every note passage is "digital", every answer "groen".
    config = WeightConfig(n_bootstrap=50)
    total = theme_frequencies(with_text_weights(frame, config), THEMES, config).set_index("theme")
    assert total.loc["digital", "share"] == pytest.approx(0.5)
    assert total.loc["digital", "n_texts"] == 40
    # ... and the table by source kind shows each kind alone.
    by_kind = theme_frequencies(with_text_weights(frame, config), THEMES, config, by="source_kind")
    assert by_kind.set_index(["source_kind", "theme"]).loc[("note", "digital"), "share"] == pytest.approx(1.0)


def test_an_absent_group_leaves_the_others_the_whole_weight():
    answers_only = balanced_frame(n_answers=30, n_notes=0)
    np.testing.assert_allclose(text_weights(answers_only, WeightConfig()), answers_only["weight"])
    notes_only = balanced_frame(n_answers=0, n_notes=12)
    np.testing.assert_allclose(text_weights(notes_only, WeightConfig()), notes_only["weight"])
    with pytest.raises(ValueError, match="notat"):
        WeightConfig(source_groups={"mentimeter": "deltagere", "note": "notat"}, source_shares={"deltagere": 1.0})
    with pytest.raises(ValueError, match="source group"):
        text_weights(answers_only, WeightConfig(source_groups={"note": "notat"}, source_shares={"notat": 1.0}))


def test_rows_that_are_not_content_weigh_nothing_and_are_not_counted():
    frame = balanced_frame(n_answers=20, n_notes=10)
    frame["role"] = "indhold"
    frame.loc[frame.index[-3:], "role"] = ["om_workshoppen", "listeindledning", "opsummering"]
    weights = text_weights(frame, WeightConfig())
    assert (weights[frame["role"] != "indhold"] == 0).all()
    assert note_share(frame, WeightConfig()) == pytest.approx(0.5)  # the note's 7 content passages carry its half
    config = WeightConfig(n_bootstrap=50)
    total = theme_frequencies(with_text_weights(frame, config), THEMES, config).set_index("theme")
    assert total.loc["digital", "n_texts"] == 7 and total["n_texts"].sum() == 27


def test_source_balance_combines_with_workshop_normalisation():
    frame = pd.concat(
        [balanced_frame(200, 30, workshop="Aalborg"), balanced_frame(40, 10, workshop="Hjørring", seed=1),
         balanced_frame(25, 0, workshop="Thisted", seed=2)],  # fmt: skip
        ignore_index=True,
    )
    config = WeightConfig(normalise_workshops=True)
    weights = text_weights(frame, config)
    per_workshop = weights.groupby(frame["workshop"]).sum()
    assert per_workshop.to_numpy() == pytest.approx([per_workshop.mean()] * 3)
    assert per_workshop.mean() == pytest.approx(frame.groupby("workshop")["weight"].sum().mean())
    notes = (weights * (frame["source_kind"] == "note")).groupby(frame["workshop"]).sum() / per_workshop
    assert notes.to_dict() == pytest.approx({"Aalborg": 0.5, "Hjørring": 0.5, "Thisted": 0.0})


def test_intervals_contain_the_estimate_are_seeded_and_shrink_with_more_texts():
    frame = make_assignments(150)
    config = WeightConfig(n_bootstrap=400, random_state=3)
    table = theme_frequencies(frame, THEMES, config)
    assert (table["ci_low"] <= table["share"]).all() and (table["share"] <= table["ci_high"]).all()
    occurring = table["n_texts"] > 0
    assert (table.loc[occurring, "ci_high"] > table.loc[occurring, "ci_low"]).all()
    pd.testing.assert_frame_equal(table, theme_frequencies(frame, THEMES, config))
    reseeded = theme_frequencies(frame, THEMES, config.model_copy(update={"random_state": 4}))
    assert not np.allclose(reseeded["ci_low"], table["ci_low"])
    larger = theme_frequencies(make_assignments(1500), THEMES, config)
    width = (table["ci_high"] - table["ci_low"])[occurring]
    assert ((larger["ci_high"] - larger["ci_low"])[occurring] < width).all()


def test_interval_coverage_on_repeated_samples():
    """The 95 % interval covers the population share in about 95 % of samples."""
    # Weights balanced between answers and note (the default), recomputed on each sample
    # as a run would: the stratified bootstrap must cover the balanced population share.
    config = WeightConfig(n_bootstrap=300)
    population = make_assignments(20000, seed=11)
    truth = theme_frequencies(with_text_weights(population, config), THEMES, config.model_copy(update={"n_bootstrap": 0}))
    truth = truth.set_index("theme")["share"]
    rng = np.random.default_rng(5)
    covered = []
    for _ in range(80):
        sample = with_text_weights(population.iloc[rng.choice(len(population), 200, replace=False)], config)
        table = theme_frequencies(sample, THEMES, config).set_index("theme")
        covered.append(((table["ci_low"] <= truth) & (truth <= table["ci_high"]))[["arbejdskraft", "groen", "digital"]])
    coverage = pd.concat(covered).mean()
    assert 0.88 <= coverage <= 0.99


def test_membership_columns_and_labels():
    frame = make_assignments(50)
    hard = frame.drop(columns=[f"p_{theme}" for theme in ALL])
    table = theme_frequencies(hard, THEMES, WeightConfig(n_bootstrap=10))
    np.testing.assert_allclose(table["weighted_frequency"], [frame.loc[frame["theme"] == t, "weight"].sum() for t in ALL])
    with pytest.raises(ValueError, match="p_digital"):
        theme_frequencies(frame.drop(columns=["p_digital"]), THEMES, WeightConfig(estimator="probabilistic"))
    tables = frequency_tables(frame, THEMES, WeightConfig(n_bootstrap=10), labels={"groen": "Grøn omstilling"})
    assert list(tables) == ["total", "workshop", "question", "source_kind"]
    assert list(tables["workshop"].columns) == ["workshop", "theme", "label", "n_texts", "weighted_frequency", "share", "ci_low", "ci_high"]
    assert tables["total"].set_index("theme").loc[["groen", "digital"], "label"].tolist() == ["Grøn omstilling", "digital"]


def test_bootstrap_scales_to_a_large_run():
    frame = make_assignments(100_000)
    config = WeightConfig(n_bootstrap=1000, normalise_workshops=True)  # 2 workshops x 2 source groups = 4 strata
    # CPU time of this process: the test machine is shared, wall time measures the neighbours.
    start = time.process_time()
    table = theme_frequencies(with_text_weights(frame, config), THEMES, config)
    assert time.process_time() - start < 10
    assert (table.loc[table["n_texts"] > 0, "ci_high"] - table.loc[table["n_texts"] > 0, "ci_low"]).max() < 0.03


def test_a_breakdown_with_one_group_repeats_the_total_exactly():
    frame = make_assignments(300).assign(question="Hvad skal vi satse på?")
    config = WeightConfig(n_bootstrap=200)
    tables = frequency_tables(frame, THEMES, config, labels={"groen": "Grøn omstilling"})
    direct = theme_frequencies(frame, THEMES, config, by="question", labels={"groen": "Grøn omstilling"})
    pd.testing.assert_frame_equal(tables["question"], direct)
    voices = [column for column in tables["total"].columns if column.startswith("share_")]
    assert voices == ["share_deltagere", "share_notat"]  # answers and note passages, each on its own
    pd.testing.assert_frame_equal(tables["question"].drop(columns="question"), tables["total"].drop(columns=voices))
    # A breakdown with several groups resamples each group on its own.
    assert tables["workshop"]["workshop"].nunique() == 2
    pd.testing.assert_frame_equal(tables["workshop"], theme_frequencies(frame, THEMES, config, by="workshop", labels={"groen": "Grøn omstilling"}))


def test_the_overall_table_shows_the_two_voices_apart():
    frame = balanced_frame(n_answers=60, n_notes=20)  # answers all "groen", note passages all "digital"
    frame.loc[frame.index[:15], "theme"] = "andet"
    config = WeightConfig(n_bootstrap=50)
    total = frequency_tables(with_text_weights(frame, config), THEMES, config)["total"].set_index("theme")
    assert total.loc["groen", "share_deltagere"] == pytest.approx(45 / 60, abs=0.1)  # by voices, not counts
    assert total.loc["groen", "share_notat"] == 0 and total.loc["digital", "share_notat"] == pytest.approx(1.0)
    assert total.loc["digital", "share"] == pytest.approx(0.5)  # combined: each voice half the weight
    for column in ("share", "share_deltagere", "share_notat"):
        assert total[column].sum() == pytest.approx(1.0)
    # A run with one voice has no columns for it.
    answers = balanced_frame(n_answers=30, n_notes=0)
    only = frequency_tables(with_text_weights(answers, config), THEMES, config)["total"]
    assert not [column for column in only.columns if column.startswith("share_")]


def simulated_run(n: int, truth: list[float], confusion: np.ndarray, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Texts whose true class is drawn with ``truth`` shares and decided through ``confusion`` (P(decided | true))."""
    rng = np.random.default_rng(seed)
    true = rng.choice(len(ALL), size=n, p=truth)
    decided = np.array([rng.choice(len(ALL), p=confusion[t]) for t in true])
    frame = make_assignments(n, seed=seed).assign(theme=np.asarray(ALL)[decided], source_kind="mentimeter", weight=1.0)
    return frame.drop(columns=[f"p_{theme}" for theme in ALL]), np.asarray(ALL)[true]


def test_a_validation_sample_recovers_known_shares_under_a_known_confusion():
    """Classify-and-count is biased by the mapping's errors; the stratified correction removes the bias."""
    from pipeline.prevalence import MappingCorrection
    from pipeline.validation import draw_sample

    truth = [0.25, 0.1, 0.15, 0.1, 0.1, 0.0, 0.3]
    confusion = np.eye(len(ALL)) * 0.7
    confusion[:, -1] += 0.2  # a fifth of every theme's texts rejected to andet ...
    confusion[-1, :-1] += 0.3 / 6  # ... and andet texts leak into every theme
    confusion[-1, -1] = 0.7
    confusion[:-1, 2] += 0.1  # "groen" a sink: a tenth of every other theme lands there
    confusion /= confusion.sum(axis=1, keepdims=True)
    config = WeightConfig(n_bootstrap=300)
    raw_errors, corrected_errors, covered = [], [], []
    for seed in range(12):
        frame, true = simulated_run(3000, truth, confusion, seed)
        plain_table = theme_frequencies(frame, THEMES, config).set_index("theme")
        plain = plain_table["share"]
        sample = draw_sample(frame, 300, random_state=seed)
        correct = dict(zip(frame["text_id"], true))
        correction = MappingCorrection(tuple(ALL), tuple(sample["theme"]), tuple(sample["text_id"].map(correct)),
                                       text_ids=tuple(sample["text_id"]))
        fixed = theme_frequencies(frame, THEMES, config, correction=correction).set_index("theme")
        raw_errors.append(np.abs(plain.to_numpy() - truth).sum() / 2)
        corrected_errors.append(np.abs(fixed["share"].to_numpy() - truth).sum() / 2)
        assert fixed["share"].sum() == pytest.approx(1.0)
        covered.append(((fixed["ci_low"] <= truth) & (np.asarray(truth) <= fixed["ci_high"]))[["arbejdskraft", "groen", "andet"]])
        # The interval of the corrected shares includes the mapping's uncertainty: wider than the texts' alone.
        assert (fixed["ci_high"] - fixed["ci_low"])["groen"] > (plain_table["ci_high"] - plain_table["ci_low"])["groen"]
    assert np.median(raw_errors) > 0.08  # the mapping's errors bias the plain count
    assert np.median(corrected_errors) < 0.04
    assert pd.concat(covered).mean() >= 0.85


def test_a_correction_without_errors_changes_nothing_and_unchecked_themes_keep_their_texts():
    from pipeline.prevalence import MappingCorrection

    frame = make_assignments(400)
    config = WeightConfig(n_bootstrap=100)
    plain = theme_frequencies(frame, THEMES, config)
    checked = frame.groupby("theme").head(4)
    agreeing = MappingCorrection(tuple(ALL), tuple(checked["theme"]), tuple(checked["theme"]), prior=0.0)
    same = theme_frequencies(frame, THEMES, config, correction=agreeing)
    np.testing.assert_allclose(same["share"], plain["share"])
    assert agreeing.agreement() == 1.0
    # With the default prior a perfect check still leaves some doubt: the shares move a little, and each
    # published share lies inside its interval without widening (the estimate is the draws' mean).
    doubtful = MappingCorrection(tuple(ALL), tuple(checked["theme"]), tuple(checked["theme"]))
    table = theme_frequencies(frame, THEMES, config, correction=doubtful)
    np.testing.assert_allclose(table["share"], plain["share"], atol=0.03)
    draws = doubtful.draws(4000)
    np.testing.assert_allclose(draws.mean(axis=0), doubtful.matrix(), atol=0.01)
    # Only "digital" was checked (by texts outside this table), and half of it is "groen": digital's
    # share moves, the rest stays. Two checked texts and two pseudo-texts kept: a quarter moves.
    moved = MappingCorrection(tuple(ALL), ("digital", "digital"), ("digital", "groen"), agreement_prior=2.0, prior=0.0)
    table = theme_frequencies(frame, THEMES, config, correction=moved).set_index("theme")
    before = plain.set_index("theme")["share"]
    assert table.loc["digital", "share"] == pytest.approx(before["digital"] * 3 / 4)
    assert table.loc["groen", "share"] == pytest.approx(before["groen"] + before["digital"] / 4)
    unshrunk = MappingCorrection(tuple(ALL), ("digital", "digital"), ("digital", "groen"), agreement_prior=0.0, prior=0.0)
    table = theme_frequencies(frame, THEMES, config, correction=unshrunk).set_index("theme")
    assert table.loc["digital", "share"] == pytest.approx(before["digital"] / 2)
    assert table.loc["arbejdskraft", "share"] == pytest.approx(before["arbejdskraft"])
    with pytest.raises(ValueError, match="outside the taxonomy"):
        MappingCorrection(tuple(ALL), ("digital",), ("sundhed",))
    with pytest.raises(ValueError, match="not the table's"):  # classes in another order would mix themes up
        theme_frequencies(frame, THEMES, config, correction=MappingCorrection(tuple(reversed(ALL)), ("digital",), ("groen",)))


def test_em_adjustment_moves_calibrated_posteriors_to_the_new_priors():
    """Posteriors calibrated for balanced classes, applied where one class is rare: EM finds the rare prior."""
    from pipeline.prevalence import em_adjusted

    rng = np.random.default_rng(0)
    true = rng.choice(2, size=4000, p=[0.9, 0.1])
    scores = rng.normal(loc=np.where(true == 1, 1.0, -1.0), scale=1.0)
    positive = 1 / (1 + np.exp(-2 * scores))  # the Bayes posterior under equal priors
    posteriors = np.column_stack([1 - positive, positive])
    assert posteriors.mean(axis=0)[1] > 0.2  # the plain mean is far from 0.1
    assert em_adjusted(posteriors).mean(axis=0)[1] == pytest.approx(0.1, abs=0.03)


def test_checked_texts_count_to_the_analysts_theme():
    from pipeline.prevalence import MappingCorrection

    frame = make_assignments(10).assign(weight=1.0, theme="groen")
    # The analyst checked two of the ten "groen" texts: one is right, one is "digital".
    correction = MappingCorrection(tuple(ALL), ("groen", "groen"), ("groen", "digital"), text_ids=("t:0", "t:1"),
                                   agreement_prior=0.0, prior=0.0)
    table = theme_frequencies(frame, THEMES, WeightConfig(n_bootstrap=50), correction=correction).set_index("theme")
    # t:1 counts fully as digital, the 8 unchecked texts half each (the checked rate).
    assert table.loc["digital", "weighted_frequency"] == pytest.approx(1 + 8 * 0.5)
    assert table.loc["groen", "weighted_frequency"] == pytest.approx(1 + 8 * 0.5)
    assert table["share"].sum() == pytest.approx(1.0)
