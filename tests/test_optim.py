"""course_utils.optim: the one Adam (and Adagrad) every NumPy model in the course trains with."""

import numpy as np
import pytest

from course_utils import charrnn, rnn
from course_utils.optim import Adagrad, Adam


@pytest.mark.parametrize("opt", [Adagrad(lr=0.5), Adam(lr=0.1)])
def test_optimisers_minimise_a_quadratic(opt):
    p = {"w": np.array([3.0, -2.0])}
    for _ in range(300):
        opt.update(p, {"w": 2 * p["w"]})
    assert np.abs(p["w"]).max() < 0.05


def test_adam_takes_the_same_steps_as_keras():
    import keras

    rng = np.random.default_rng(0)
    w0 = rng.standard_normal(5)
    p = {"w": w0.copy()}
    var = keras.Variable(w0.astype("float32"))
    ours = Adam(lr=0.01)
    theirs = keras.optimizers.Adam(learning_rate=0.01, epsilon=1e-8)
    for _ in range(20):
        g = rng.standard_normal(5)
        g[0] = 0.0 if _ % 2 else 1e-9  # a coordinate whose gradient is ~0: eps matters here
        ours.update(p, {"w": g.copy()})
        theirs.apply_gradients([(keras.ops.convert_to_tensor(g.astype("float32")), var)])
    np.testing.assert_allclose(p["w"], var.numpy(), rtol=1e-5, atol=1e-6)


def test_one_adam_for_every_numpy_model():
    assert rnn.Adam is Adam and charrnn.Adam is Adam and charrnn.Adagrad is Adagrad


@pytest.mark.parametrize("make", [lambda: Adam(lr=0), lambda: Adagrad(lr=-1),
                                  lambda: Adam(beta1=1.0)])
def test_bad_settings_are_clear_errors(make):
    with pytest.raises(ValueError, match="must be"):
        make()


def test_mismatched_gradients_are_a_clear_error():
    with pytest.raises(ValueError, match="keys"):
        Adam().update({"w": np.zeros(2)}, {"v": np.zeros(2)})
