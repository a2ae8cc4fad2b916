import numpy as np

from classifier.decode import emission_weights, fill_blank, fit_transitions, viterbi


def test_transitions_are_learned_from_sequences():
    log_start, log_trans = fit_transitions([[1, 1, 0, 0, 0, 1], [1, 0, 0]], 3)
    assert np.allclose(np.exp(log_trans).sum(axis=1), 1)
    assert log_start.argmax() == 1
    assert log_trans[0, 0] > log_trans[0, 2]


def test_viterbi_smooths_an_isolated_flip():
    log_start = np.log([0.5, 0.5, 1e-9])
    log_trans = np.log([[0.9, 0.1, 1e-9], [0.1, 0.9, 1e-9], [1 / 3] * 3])
    emit = np.log(np.array([[0.9, 0.1, 0.0], [0.45, 0.55, 0.0], [0.9, 0.1, 0.0]]) + 1e-12)
    assert list(viterbi(emit, log_start, log_trans)) == [0, 0, 0]
    assert list(viterbi(emit, log_start, log_trans, weight=0.0)) == [0, 1, 0]


def test_viterbi_empty():
    assert len(viterbi(np.zeros((0, 3)), np.zeros(3), np.zeros((3, 3)))) == 0


def test_blank_lines_take_body_only_between_body_lines():
    labels = fill_blank(7, [0, 2, 4, 6], ["chrome", "body", "body", "chrome"])
    assert labels == ["chrome", "chrome", "body", "body", "body", "chrome", "chrome"]


def test_a_long_line_outweighs_the_transitions_around_it():
    log_start = np.log([0.5, 0.5, 1e-9])
    log_trans = np.log([[0.9, 0.1, 1e-9], [0.08, 0.92, 1e-9], [1 / 3] * 3])
    emit = np.log(np.array([[0.01, 0.99, 0.0], [0.7, 0.3, 0.0], [0.01, 0.99, 0.0]]) + 1e-12)
    assert list(viterbi(emit, log_start, log_trans)) == [1, 1, 1]
    weights = emission_weights([10, 8000, 10])
    assert weights[1] > 4 > weights[0]
    assert list(viterbi(emit * weights[:, None], log_start, log_trans)) == [1, 0, 1]


def test_chrome_after_the_last_body_unit_is_its_own_state():
    from classifier.decode import states

    assert states([2, 1, 0, 1, 0, 1, 1]) == [5, 4, 0, 1, 0, 3, 3]
    assert states([1, 2]) == [4, 5]


def test_once_the_document_is_over_it_does_not_resume():
    from classifier.decode import states

    log_start, log_trans = fit_transitions([states(s) for s in [[1, 0, 0, 1, 1], [1, 0, 1, 0, 0, 1]] * 20], 6)
    # body-looking unit after a long run of trailing chrome: stays chrome
    emit = np.log(np.array([[0.1, 0.9, 0], [0.9, 0.1, 0], [0.9, 0.1, 0], [0.2, 0.8, 0], [0.1, 0.9, 0],
                            [0.1, 0.9, 0], [0.6, 0.4, 0]]) + 1e-12)
    path = viterbi(emit, log_start, log_trans, weight=1.0)
    assert list(path[:3]) == [1, 0, 0] and path[-1] == 1
    assert list(viterbi(emit, log_start, log_trans, weight=0.0))[-1] == 0


def test_a_page_gets_a_body_when_one_unit_makes_it_plausible():
    from classifier.decode import states

    log_start, log_trans = fit_transitions([states(s) for s in [[1, 0, 0, 1], [1, 1, 0, 1]] * 20], 6)
    emit = np.log(np.array([[0.05, 0.95, 0], [0.2, 0.8, 0], [0.05, 0.95, 0]]) + 1e-12)
    assert list(viterbi(emit, log_start, log_trans)) == [1, 0, 1]
    hopeless = np.log(np.array([[1e-9, 1, 0]] * 3) + 1e-12)
    assert list(viterbi(hopeless * 3, log_start, log_trans)) == [1, 1, 1]


def test_documents_decoded_together_come_out_as_alone():
    rng = np.random.default_rng(0)
    log_start, log_trans = fit_transitions([[4, 0, 1, 0, 3, 3], [5, 4, 0, 2, 0, 3], [0, 0]], 6)
    sizes = np.array([5, 0, 1, 12, 3])
    emit = np.log(rng.dirichlet([0.5, 0.5, 0.5], size=sizes.sum()))
    same_line = rng.random(sizes.sum()) < 0.3
    together = viterbi(emit, log_start, log_trans, 0.3, same_line, sizes)
    starts = np.cumsum(sizes) - sizes
    alone = [viterbi(emit[a : a + n], log_start, log_trans, 0.3, same_line[a : a + n]) for a, n in zip(starts, sizes)]
    assert list(together) == [k for path in alone for k in path]
