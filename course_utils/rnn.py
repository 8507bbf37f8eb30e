"""Recurrent layers in NumPy: SimpleRNN, LSTM and GRU, with backprop through time.

Every layer keeps Keras's weight layout, so ``from_keras`` / ``to_keras`` move weights both
ways and the two implementations can be compared number for number.

Shapes (N = batch, T = time steps, D = input size, H = hidden size):

- ``forward(x, h0=None)``: x (N, T, D) -> every hidden state, (N, T, H).
- ``backward(dH)``: dH (N, T, H), the loss gradient w.r.t. every hidden state returned by the
  last ``forward`` -> dx (N, T, D). It fills ``grads`` (same keys and shapes as ``params``)
  and ``dh0`` (N, H), the gradient w.r.t. the initial state (``dc0`` too for the LSTM).

``params`` and ``grads`` hold ``W_x`` (D, G*H), ``W_h`` (H, G*H) and ``b`` with G = 1 for the
SimpleRNN, 4 for the LSTM (gate blocks i, f, c, o) and 3 for the GRU (blocks z, r, h).

Inside, states are stored time-major, (T, N, H), so that the state of one step is one
contiguous block: the loop over time then reads and writes whole arrays in place. Forward and
backward run NumPy's BLAS single-threaded (``blas_threads``; see why there).

Bad input (wrong rank or shape, an initial state that does not match, NaN) raises a
``ValueError`` naming the expected shape; ``backward`` before any ``forward`` raises a
``RuntimeError``.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import glob
import os
import threading

import numpy as np

from course_utils.optim import Adam
from course_utils.progress import progress_bar

__all__ = [
    "GRU",
    "LSTM",
    "Adam",
    "MLPClassifier",
    "RNNClassifier",
    "SimpleRNN",
    "blas_threads",
    "clip_by_norm",
    "clip_elementwise",
    "hidden_jacobian_norms",
    "make_parity_data",
    "make_recall_data",
    "recall_accuracy",
    "RECALL_BUDGET",
    "train_classifier",
    "window_features",
]


def _find_openblas_thread_control():
    """(set, get) for the thread count of NumPy's own OpenBLAS, or None where not found."""
    numpy_dir = os.path.dirname(np.__file__)
    patterns = [os.path.join(numpy_dir, os.pardir, "numpy.libs", "*openblas*"),
                os.path.join(numpy_dir, ".dylibs", "*openblas*")]
    for path in sorted(p for pattern in patterns for p in glob.glob(pattern)):
        try:
            lib = ctypes.CDLL(path)  # already loaded by NumPy: this returns the same library
        except OSError:
            continue
        for prefix in ("scipy_openblas_", "openblas_"):
            for suffix in ("64_", "_64_", ""):
                setter = getattr(lib, f"{prefix}set_num_threads{suffix}", None)
                getter = getattr(lib, f"{prefix}get_num_threads{suffix}", None)
                if setter is not None and getter is not None:
                    getter.restype = ctypes.c_int
                    return setter, getter
    return None


_OPENBLAS = _find_openblas_thread_control()


_blas_lock = threading.Lock()
_blas_active = 0  # blocks currently inside blas_threads, over all Python threads
_blas_saved = None  # NumPy's setting before the first of them


@contextlib.contextmanager
def blas_threads(n):
    """Run NumPy's OpenBLAS with ``n`` threads inside the block (no-op when not found).

    Why one thread by default: the recurrence multiplies a small (N, H) state by W_h once per
    time step, where BLAS threads spend longer waiting for each other than computing; and on a
    busy 2-core machine (a laptop with a browser open, or several jobs at once) even the big
    products ran 3x slower with two threads than with one, because each thread keeps waiting
    for the other to be scheduled. Set ``<Layer>.blas_threads = None`` to keep NumPy's setting.

    The setting is global to the process. Blocks may nest and may run in several Python
    threads at once: the latest ``n`` applies, and NumPy's own setting comes back when the
    last block still open exits.
    """
    global _blas_active, _blas_saved
    if _OPENBLAS is None or n is None:
        yield
        return
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer or None, got {n!r}")
    setter, getter = _OPENBLAS
    with _blas_lock:
        if _blas_active == 0:
            _blas_saved = getter()
        _blas_active += 1
        setter(int(n))
    try:
        yield
    finally:
        with _blas_lock:
            _blas_active -= 1
            if _blas_active == 0:
                setter(_blas_saved)


_blas_threads = blas_threads  # the name course_utils.charrnn imports


def _with_blas_threads(method):
    """Run a layer method under ``_blas_threads(self.blas_threads)``."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with blas_threads(self.blas_threads):
            return method(self, *args, **kwargs)

    return wrapper


def _sigmoid(a, out=None):
    """Logistic function without overflow warnings: 0.5 * (1 + tanh(a / 2))."""
    out = np.multiply(a, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out


def _glorot_uniform(rng, shape, dtype):
    limit = np.sqrt(6.0 / (shape[0] + shape[1]))
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


def _orthogonal(rng, shape, dtype):
    """Orthonormal rows or columns (Keras's default for recurrent kernels)."""
    rows, cols = shape
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))  # a uniform draw over orthogonal matrices, not QR's bias
    if rows < cols:
        q = q.T
    return q.astype(dtype)


class _Recurrent:
    """Shared plumbing: parameters, input checks, Keras conversion."""

    #: gate blocks in the kernels (1 for SimpleRNN, 4 for LSTM, 3 for GRU)
    n_gates = 1
    keras_class = ""
    #: True for the LSTM: forward also takes c0, backward also fills dc0
    has_cell_state = False
    #: OpenBLAS threads used inside forward and backward (None: leave NumPy's setting alone)
    blas_threads = 1

    def __init__(self, input_size, hidden_size, *, seed=0, dtype=np.float32):
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {dtype}")
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.dtype = dtype
        rng = np.random.default_rng(seed)
        D, H, G = self.input_size, self.hidden_size, self.n_gates
        self.params = {
            "W_x": _glorot_uniform(rng, (D, G * H), dtype),
            "W_h": _orthogonal(rng, (H, G * H), dtype),
            "b": self._initial_bias(),
        }
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.dh0 = None
        self._cache = None

    def _initial_bias(self):
        return np.zeros(self.n_gates * self.hidden_size, dtype=self.dtype)

    def __repr__(self):
        return (f"{type(self).__name__}(input_size={self.input_size}, "
                f"hidden_size={self.hidden_size}, dtype={self.dtype.name})")

    # ---------------------------------------------------------------- checks
    def _check_x(self, x):
        D = self.input_size
        x = np.asarray(x)
        if x.ndim != 3 or x.shape[2] != D or x.shape[0] < 1 or x.shape[1] < 1:
            raise ValueError(
                f"x must have shape (N, T, {D}) = (batch, time steps, input_size) with N, T >= 1;"
                f" got shape {x.shape}")
        if x.dtype != bool and (not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x)):
            raise ValueError(f"x must hold real numbers, got dtype {x.dtype}")
        x = x.astype(self.dtype, copy=False)
        if not np.isfinite(x).all():
            raise ValueError(f"x of shape (N, T, {D}) contains NaN or infinite values")
        return x

    def _check_state(self, s, N, name):
        H = self.hidden_size
        if s is None:
            return np.zeros((N, H), dtype=self.dtype)
        s = np.asarray(s)
        if s.shape != (N, H):
            raise ValueError(f"{name} must have shape (N, H) = ({N}, {H}) to match x; "
                             f"got shape {s.shape}")
        s = s.astype(self.dtype, copy=True)  # kept for backward, safe from later edits
        if not np.isfinite(s).all():
            raise ValueError(f"{name} of shape ({N}, {H}) contains NaN or infinite values")
        return s

    def _check_dH(self, dH):
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward: "
                               "run forward(x) first, backward uses its stored states")
        T, N = self._cache["T"], self._cache["N"]
        H = self.hidden_size
        dH = np.asarray(dH)
        if dH.shape != (N, T, H):
            raise ValueError(f"dH must have shape (N, T, H) = ({N}, {T}, {H}) like the output "
                             f"of the last forward; got shape {dH.shape}")
        dH = dH.astype(self.dtype, copy=False)
        if not np.isfinite(dH).all():
            raise ValueError("dH contains NaN or infinite values")
        # always a fresh time-major copy: backward overwrites it in place
        return np.array(dH.transpose(1, 0, 2), order="C", copy=True)

    def _input_projection(self, x):
        """x (N, T, D) -> time-major x (T, N, D) and x @ W_x for all steps at once, (T, N, G*H)."""
        N, T, D = x.shape
        X = np.array(x.transpose(1, 0, 2), order="C", copy=True)  # kept for backward
        A = X.reshape(T * N, D) @ self.params["W_x"]
        return X, A.reshape(T, N, -1)

    def _weight_grads(self, X, Hprev, dA, dR=None):
        """Every weight gradient as one matrix product over all (time, batch) rows."""
        T, N, D = X.shape
        H = self.hidden_size
        dA2 = dA.reshape(T * N, -1)
        dR2 = dA2 if dR is None else dR.reshape(T * N, -1)
        self.grads["W_x"] = X.reshape(T * N, D).T @ dA2
        self.grads["W_h"] = Hprev.reshape(T * N, H).T @ dR2
        dx = (dA2 @ self.params["W_x"].T).reshape(T, N, D)
        return np.ascontiguousarray(dx.transpose(1, 0, 2))

    # ------------------------------------------------------------- Keras I/O
    def _gate_blocks(self, key, names):
        """The cached (T, N, k H) activations ``key`` split into {name: (N, T, H)} copies."""
        if self._cache is None:
            raise RuntimeError("no gates yet: call forward(x) first")
        H = self.hidden_size
        Z = self._cache[key]
        return {k: Z[:, :, j * H:(j + 1) * H].transpose(1, 0, 2).copy()
                for j, k in enumerate(names)}

    @classmethod
    def from_keras(cls, layer, *, dtype=np.float32):
        """A NumPy copy of a built ``keras.layers.<SimpleRNN|LSTM|GRU>`` with its weights."""
        import keras

        expected = getattr(keras.layers, cls.keras_class)
        if not isinstance(layer, expected):
            raise ValueError(f"expected a keras.layers.{cls.keras_class}, got {type(layer).__name__}")
        if not layer.built:
            raise ValueError(f"the Keras {cls.keras_class} is not built yet: call it on an input "
                             "or build((None, None, input_size)) first")
        cls._check_keras_config(layer)
        kernel, recurrent, bias = layer.get_weights()
        model = cls(kernel.shape[0], layer.units, dtype=dtype)
        model.set_weights(kernel, recurrent, bias)
        return model

    @classmethod
    def _check_keras_config(cls, layer):
        checks = {"activation": "tanh", "use_bias": True}
        if cls.n_gates > 1:
            checks["recurrent_activation"] = "sigmoid"
        for attr, want in checks.items():
            got = getattr(layer, attr, None)
            if attr.endswith("activation"):
                got = getattr(got, "__name__", got)
            if got != want:
                raise ValueError(f"only {attr}={want!r} is supported, the layer has {got!r}")

    def set_weights(self, W_x, W_h, b):
        """Copy arrays in Keras's layout (kernel, recurrent_kernel, bias) into ``params``."""
        for name, value in (("W_x", W_x), ("W_h", W_h), ("b", b)):
            want = self.params[name].shape
            value = np.asarray(value)
            if value.shape != want:
                raise ValueError(f"{name} must have shape {want}, got {value.shape}")
            self.params[name] = value.astype(self.dtype)  # a copy: no aliasing with the source

    def to_keras(self, **layer_kwargs):
        """A built ``keras.layers.<SimpleRNN|LSTM|GRU>(return_sequences=True)`` with these weights.

        Its output, like ``forward``'s, is every hidden state (N, T, H).
        """
        import keras

        kwargs = {"return_sequences": True, "dtype": self.dtype.name, **layer_kwargs}
        kwargs.update(self._keras_kwargs())
        layer = getattr(keras.layers, self.keras_class)(self.hidden_size, **kwargs)
        layer.build((None, None, self.input_size))
        self.set_keras_weights(layer)
        return layer

    def _keras_kwargs(self):
        return {}

    def set_keras_weights(self, layer):
        """Write ``params`` into an existing built Keras layer of the same sizes."""
        self._check_keras_config(layer)
        layer.set_weights([self.params["W_x"], self.params["W_h"], self.params["b"]])
        return layer


class SimpleRNN(_Recurrent):
    """The Elman network of ``keras.layers.SimpleRNN``: h_t = tanh(x_t W_x + h_{t-1} W_h + b).

    ``params``: ``W_x`` (D, H), ``W_h`` (H, H), ``b`` (H,). After ``backward``, ``grads`` has
    the same keys and ``dh0`` (N, H) is d loss / d h_0.
    """

    keras_class = "SimpleRNN"

    @_with_blas_threads
    def forward(self, x, h0=None):
        """x (N, T, D), h0 (N, H) or None (zeros) -> hidden states (N, T, H)."""
        x = self._check_x(x)
        N, T, _ = x.shape
        h0 = self._check_state(h0, N, "h0")
        W_h = self.params["W_h"]
        X, A = self._input_projection(x)
        A += self.params["b"]
        Hs = A  # overwritten step by step: A[t] is read once, then becomes h_t
        h = h0
        buf = np.empty_like(h0)
        for t in range(T):
            np.matmul(h, W_h, out=buf)
            buf += A[t]
            np.tanh(buf, out=Hs[t])
            h = Hs[t]
        self._cache = {"X": X, "Hs": Hs, "h0": h0, "T": T, "N": N}
        return Hs.transpose(1, 0, 2).copy()

    @_with_blas_threads
    def backward(self, dH):
        """dH (N, T, H) -> dx (N, T, D); fills ``grads`` and ``dh0`` (N, H)."""
        dH = self._check_dH(dH)
        c = self._cache
        Hs, T = c["Hs"], c["T"]
        W_hT = np.ascontiguousarray(self.params["W_h"].T)
        dA = dH  # reused in place: dH[t] becomes the pre-activation gradient of step t
        dh_next = np.zeros_like(c["h0"])
        for t in range(T - 1, -1, -1):
            da = dA[t]
            da += dh_next
            da *= 1.0 - Hs[t] * Hs[t]  # tanh' = 1 - tanh^2
            np.matmul(da, W_hT, out=dh_next)
        Hprev = np.concatenate([c["h0"][None], Hs[:-1]])
        dx = self._weight_grads(c["X"], Hprev, dA)
        self.grads["b"] = dA.sum(axis=(0, 1))
        self.dh0 = dh_next
        return dx


class LSTM(_Recurrent):
    """``keras.layers.LSTM``: gate blocks i, f, c, o in ``W_x`` (D, 4H), ``W_h`` (H, 4H), ``b`` (4H,).

        i, f, o = sigmoid(.)    g = tanh(.)    c_t = f * c_{t-1} + i * g    h_t = o * tanh(c_t)

    After ``forward``: ``gates`` is a dict ``i``, ``f``, ``g`` (the candidate, Keras's "c"
    block) and ``o``, each (N, T, H), and ``cell_states`` is c_1..c_T, (N, T, H).
    After ``backward``: ``grads``, ``dh0`` and ``dc0`` (N, H).
    """

    n_gates = 4
    keras_class = "LSTM"
    has_cell_state = True

    def _initial_bias(self):
        H = self.hidden_size
        b = np.zeros(4 * H, dtype=self.dtype)
        b[H:2 * H] = 1.0  # Keras's unit_forget_bias: remember by default at the start
        return b

    @_with_blas_threads
    def forward(self, x, h0=None, c0=None):
        """x (N, T, D), h0 and c0 (N, H) or None (zeros) -> hidden states (N, T, H)."""
        x = self._check_x(x)
        N, T, _ = x.shape
        H = self.hidden_size
        h0 = self._check_state(h0, N, "h0")
        c0 = self._check_state(c0, N, "c0")
        W_h = self.params["W_h"]
        X, A = self._input_projection(x)
        A += self.params["b"]
        Z = A  # (T, N, 4H): pre-activations, turned into gate values in place
        Hs = np.empty((T, N, H), dtype=self.dtype)
        Cs = np.empty((T, N, H), dtype=self.dtype)
        tanhC = np.empty((T, N, H), dtype=self.dtype)
        buf = np.empty((N, 4 * H), dtype=self.dtype)
        h, c = h0, c0
        for t in range(T):
            z = Z[t]
            np.matmul(h, W_h, out=buf)
            z += buf
            _sigmoid(z[:, :2 * H], out=z[:, :2 * H])
            np.tanh(z[:, 2 * H:3 * H], out=z[:, 2 * H:3 * H])
            _sigmoid(z[:, 3 * H:], out=z[:, 3 * H:])
            i, f, g, o = z[:, :H], z[:, H:2 * H], z[:, 2 * H:3 * H], z[:, 3 * H:]
            np.multiply(f, c, out=Cs[t])
            Cs[t] += i * g
            np.tanh(Cs[t], out=tanhC[t])
            np.multiply(o, tanhC[t], out=Hs[t])
            h, c = Hs[t], Cs[t]
        self._cache = {"X": X, "Z": Z, "Hs": Hs, "Cs": Cs, "tanhC": tanhC,
                       "h0": h0, "c0": c0, "T": T, "N": N}
        return Hs.transpose(1, 0, 2).copy()

    @property
    def gates(self):
        """Gate activations of the last forward: dict i, f, g, o of (N, T, H)."""
        return self._gate_blocks("Z", "ifgo")

    @property
    def cell_states(self):
        """Cell states c_1..c_T of the last forward, (N, T, H)."""
        if self._cache is None:
            raise RuntimeError("no cell states yet: call forward(x) first")
        return self._cache["Cs"].transpose(1, 0, 2).copy()

    @_with_blas_threads
    def backward(self, dH):
        """dH (N, T, H) -> dx (N, T, D); fills ``grads``, ``dh0`` and ``dc0`` (N, H)."""
        dH = self._check_dH(dH)
        cache = self._cache
        Z, Cs, tanhC, T = cache["Z"], cache["Cs"], cache["tanhC"], cache["T"]
        H = self.hidden_size
        W_hT = np.ascontiguousarray(self.params["W_h"].T)
        dZ = np.empty_like(Z)
        dh_next = np.zeros_like(cache["h0"])
        dc = np.zeros_like(cache["c0"])
        for t in range(T - 1, -1, -1):
            z = Z[t]
            i, f, g, o = z[:, :H], z[:, H:2 * H], z[:, 2 * H:3 * H], z[:, 3 * H:]
            c_prev = Cs[t - 1] if t > 0 else cache["c0"]
            dh = dH[t]
            dh += dh_next
            dz = dZ[t]
            # output gate, then the cell: c reaches the loss through h_t and through c_{t+1}
            np.multiply(dh, tanhC[t], out=dz[:, 3 * H:])
            dz[:, 3 * H:] *= o * (1.0 - o)
            dc += dh * o * (1.0 - tanhC[t] * tanhC[t])
            np.multiply(dc, g, out=dz[:, :H])
            dz[:, :H] *= i * (1.0 - i)
            np.multiply(dc, c_prev, out=dz[:, H:2 * H])
            dz[:, H:2 * H] *= f * (1.0 - f)
            np.multiply(dc, i, out=dz[:, 2 * H:3 * H])
            dz[:, 2 * H:3 * H] *= 1.0 - g * g
            dc *= f
            np.matmul(dz, W_hT, out=dh_next)
        Hprev = np.concatenate([cache["h0"][None], cache["Hs"][:-1]])
        dx = self._weight_grads(cache["X"], Hprev, dZ)
        self.grads["b"] = dZ.sum(axis=(0, 1))
        self.dh0, self.dc0 = dh_next, dc
        return dx


class GRU(_Recurrent):
    """``keras.layers.GRU`` with its defaults (``reset_after=True``).

    ``W_x`` (D, 3H) and ``W_h`` (H, 3H) hold the blocks z, r, h; ``b`` is (2, 3H): row 0 is
    added to the input part, row 1 to the recurrent part. With a = x_t W_x + b[0] and
    u = h_{t-1} W_h + b[1], split into blocks:

        z = sigmoid(a_z + u_z)   r = sigmoid(a_r + u_r)   g = tanh(a_h + r * u_h)
        h_t = z * h_{t-1} + (1 - z) * g

    After ``forward``: ``gates`` is a dict ``z``, ``r``, ``g`` (candidate state), each
    (N, T, H). After ``backward``: ``grads`` and ``dh0`` (N, H).
    """

    n_gates = 3
    keras_class = "GRU"

    def _initial_bias(self):
        return np.zeros((2, 3 * self.hidden_size), dtype=self.dtype)

    def _keras_kwargs(self):
        return {"reset_after": True}

    @classmethod
    def _check_keras_config(cls, layer):
        super()._check_keras_config(layer)
        if not getattr(layer, "reset_after", True):
            raise ValueError("only reset_after=True (Keras's default) is supported")

    @_with_blas_threads
    def forward(self, x, h0=None):
        """x (N, T, D), h0 (N, H) or None (zeros) -> hidden states (N, T, H)."""
        x = self._check_x(x)
        N, T, _ = x.shape
        H = self.hidden_size
        h0 = self._check_state(h0, N, "h0")
        W_h, b = self.params["W_h"], self.params["b"]
        X, A = self._input_projection(x)
        A += b[0]
        Zg = np.empty((T, N, 3 * H), dtype=self.dtype)  # z, r, g after their activations
        Uh = np.empty((T, N, H), dtype=self.dtype)  # u_h, needed for the gradient of r
        Hs = np.empty((T, N, H), dtype=self.dtype)
        u = np.empty((N, 3 * H), dtype=self.dtype)
        h = h0
        for t in range(T):
            np.matmul(h, W_h, out=u)
            u += b[1]
            s = Zg[t]
            np.add(A[t, :, :2 * H], u[:, :2 * H], out=s[:, :2 * H])
            _sigmoid(s[:, :2 * H], out=s[:, :2 * H])
            z, r, g = s[:, :H], s[:, H:2 * H], s[:, 2 * H:]
            Uh[t] = u[:, 2 * H:]
            np.multiply(r, Uh[t], out=g)
            g += A[t, :, 2 * H:]
            np.tanh(g, out=g)
            # h = g + z * (h_prev - g)
            np.subtract(h, g, out=Hs[t])
            Hs[t] *= z
            Hs[t] += g
            h = Hs[t]
        self._cache = {"X": X, "Zg": Zg, "Uh": Uh, "Hs": Hs, "h0": h0, "T": T, "N": N}
        return Hs.transpose(1, 0, 2).copy()

    @property
    def gates(self):
        """Gate activations of the last forward: dict z, r, g of (N, T, H)."""
        return self._gate_blocks("Zg", "zrg")

    @_with_blas_threads
    def backward(self, dH):
        """dH (N, T, H) -> dx (N, T, D); fills ``grads`` and ``dh0`` (N, H)."""
        dH = self._check_dH(dH)
        cache = self._cache
        Zg, Uh, Hs, T = cache["Zg"], cache["Uh"], cache["Hs"], cache["T"]
        H = self.hidden_size
        W_hT = np.ascontiguousarray(self.params["W_h"].T)
        dA = np.empty_like(Zg)  # gradient w.r.t. x_t W_x + b[0]
        dU = np.empty_like(Zg)  # gradient w.r.t. h_{t-1} W_h + b[1]
        dh_next = np.zeros_like(cache["h0"])
        for t in range(T - 1, -1, -1):
            s = Zg[t]
            z, r, g = s[:, :H], s[:, H:2 * H], s[:, 2 * H:]
            h_prev = Hs[t - 1] if t > 0 else cache["h0"]
            dh = dH[t]
            dh += dh_next
            da, du = dA[t], dU[t]
            # candidate: dg * (1 - g^2), shared by a_h and (through r) u_h
            np.multiply(dh, 1.0 - z, out=da[:, 2 * H:])
            da[:, 2 * H:] *= 1.0 - g * g
            np.multiply(da[:, 2 * H:], r, out=du[:, 2 * H:])
            # update gate z
            np.subtract(h_prev, g, out=da[:, :H])
            da[:, :H] *= dh
            da[:, :H] *= z * (1.0 - z)
            # reset gate r
            np.multiply(da[:, 2 * H:], Uh[t], out=da[:, H:2 * H])
            da[:, H:2 * H] *= r * (1.0 - r)
            du[:, :2 * H] = da[:, :2 * H]
            np.matmul(du, W_hT, out=dh_next)
            dh_next += dh * z
        Hprev = np.concatenate([cache["h0"][None], Hs[:-1]])
        dx = self._weight_grads(cache["X"], Hprev, dA, dU)
        self.grads["b"] = np.stack([dA.sum(axis=(0, 1)), dU.sum(axis=(0, 1))])
        self.dh0 = dh_next
        return dx


# --------------------------------------------------------------------------- gradients
def clip_elementwise(grads, limit=5.0):
    """Clip every gradient entry to [-limit, limit] (the classic char-RNN recipe).

    ``grads``: one array or a dict of arrays -> the same structure, new arrays. It bounds the
    size of a step, but it changes the step's direction whenever some entries are clipped and
    others are not; it leaves small (vanishing) gradients exactly as they are.
    """
    if not limit > 0:
        raise ValueError(f"limit must be positive, got {limit}")
    if isinstance(grads, dict):
        return {k: np.clip(g, -limit, limit) for k, g in grads.items()}
    return np.clip(grads, -limit, limit)


def clip_by_norm(grads, max_norm=5.0):
    """Rescale all gradients together so that their joint L2 norm is at most ``max_norm``.

    ``grads``: one array or a dict of arrays -> the same structure, new arrays. Unlike
    ``clip_elementwise`` the direction of the step is kept; only its length shrinks.
    """
    if not max_norm > 0:
        raise ValueError(f"max_norm must be positive, got {max_norm}")
    arrays = list(grads.values()) if isinstance(grads, dict) else [grads]
    total = np.sqrt(sum(float(np.sum(np.square(g))) for g in arrays))
    scale = min(1.0, max_norm / total) if total > 0 else 1.0
    if isinstance(grads, dict):
        return {k: g * scale for k, g in grads.items()}
    return grads * scale


def hidden_jacobian_norms(layer, x, h0=None):
    """Spectral norm of d h_T / d h_0 for T = 1, ..., len(x): how much h_0 still matters at T.

    ``layer``: a SimpleRNN, LSTM or GRU; ``x`` (T, D): one input sequence; ``h0`` (H,) or None
    (zeros; the LSTM's c_0 is zeros). Returns an array of shape (T,).

    One backward pass gives a whole Jacobian: the sequence is copied H times, copy k sends
    the gradient of its own h_T[k] back, so row k of ``layer.dh0`` is row k of d h_T / d h_0.
    """
    x = np.asarray(x)
    D, H = layer.input_size, layer.hidden_size
    if x.ndim != 2 or x.shape[1] != D or x.shape[0] < 1:
        raise ValueError(f"x must be one sequence of shape (T, {D}) with T >= 1, got {x.shape}")
    if h0 is None:
        h0 = np.zeros(H)
    h0 = np.asarray(h0)
    if h0.shape != (H,):
        raise ValueError(f"h0 must have shape ({H},), got {h0.shape}")
    batch = np.broadcast_to(x, (H, *x.shape))
    h0s = np.broadcast_to(h0, (H, H))
    eye = np.eye(H, dtype=layer.dtype)
    norms = np.empty(x.shape[0])
    for T in range(1, x.shape[0] + 1):
        layer.forward(batch[:, :T], h0s)
        dH = np.zeros((H, T, H), dtype=layer.dtype)
        dH[:, -1] = eye
        layer.backward(dH)
        norms[T - 1] = np.linalg.norm(layer.dh0, 2)
    return norms


# ------------------------------------------------------------- a task that needs memory
def make_parity_data(n, length, *, rng):
    """``n`` random bit sequences and their running parity.

    Returns x (n, length, 1) float64 bits in {0, 1} and y (n, length) int, where y[:, t] is 1
    when x[:, :t+1] holds an odd number of ones. The answer at step t depends on every bit so
    far, however far back: a model with a fixed window cannot know it.
    """
    if n < 1 or length < 1:
        raise ValueError(f"need n >= 1 and length >= 1, got n={n}, length={length}")
    bits = rng.integers(0, 2, size=(n, length))
    y = np.cumsum(bits, axis=1) % 2
    return bits[..., None].astype(np.float64), y


def make_recall_data(n, lag, *, rng, noise_size=4):
    """``n`` sequences that ask, after ``lag`` steps of noise, which symbol came first.

    Step 0 shows symbol A or B (one-hot in channels 0 and 1); the ``lag`` steps after it show
    standard normal noise in channels 2 .. 2 + ``noise_size`` and nothing in channels 0 and 1.
    Returns x (n, lag + 1, 2 + noise_size) float64 and y (n,) int, 1 when the first symbol was
    B. One label, at the very end: a model that has forgotten step 0 scores 50% (chance),
    however well it handles the noise.
    """
    for name, value, low in (("n", n, 1), ("lag", lag, 0), ("noise_size", noise_size, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    y = rng.integers(0, 2, size=n)
    x = np.zeros((n, lag + 1, 2 + noise_size))
    x[np.arange(n), 0, y] = 1.0
    x[:, 1:, 2:] = rng.standard_normal((n, lag, noise_size))
    return x, y


def window_features(x, width):
    """The last ``width`` inputs at every step, zeros before the start: what an MLP sees.

    x (N, T, 1) -> (N, T, width); row t is x[t - width + 1], ..., x[t]. Leading zeros do not
    change a parity, so for T <= width the window holds the whole answer.
    """
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[2] != 1:
        raise ValueError(f"x must have shape (N, T, 1), got {x.shape}")
    if width < 1:
        raise ValueError(f"width must be >= 1, got {width}")
    N, T, _ = x.shape
    padded = np.concatenate([np.zeros((N, width - 1)), x[..., 0]], axis=1)
    return np.lib.stride_tricks.sliding_window_view(padded, width, axis=1).copy()


def _bce_with_logits(logits, y):
    """Mean binary cross-entropy and its gradient w.r.t. the logits (same shape)."""
    loss = np.mean(np.logaddexp(0.0, logits) - y * logits)
    dlogits = (_sigmoid(logits) - y) / logits.size
    return float(loss), dlogits


class _StepClassifier:
    """A binary prediction at every time step: predict_proba(x) -> (N, T)."""

    def predict_proba(self, x):
        return _sigmoid(self._logits(x))

    def accuracy(self, x, y, *, last_step_only=False):
        """Fraction of steps (or of final steps) where P > 0.5 matches the 0/1 target y (N, T)."""
        pred = self.predict_proba(x) > 0.5
        y = np.asarray(y).astype(bool)
        if y.ndim == 1:  # one label per sequence: it is the answer after the last step
            return float(np.mean(pred[:, -1] == y))
        if last_step_only:
            pred, y = pred[:, -1], y[:, -1]
        return float(np.mean(pred == y))


class RNNClassifier(_StepClassifier):
    """A recurrent layer with a logistic readout: P(y_t = 1) = sigmoid(h_t . w + c).

    ``cell``: ``"simple"`` (SimpleRNN, the default), ``"lstm"`` or ``"gru"``, all from this
    module. ``params``: the layer's ``W_x``, ``W_h``, ``b`` (prefixed ``rnn.``) plus ``w`` (H,)
    and ``c`` (1,). ``loss_and_grads(x, y)`` with x (N, T, D) and y (N, T) (a label at every
    step) or y (N,) (one label, after the last step) -> (loss, grads).
    """

    _cells = {"simple": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}

    def __init__(self, input_size, hidden_size, *, cell="simple", seed=0, dtype=np.float64):
        if cell not in self._cells:
            raise ValueError(f"cell must be one of {sorted(self._cells)}, got {cell!r}")
        self.rnn = globals()[self._cells[cell]](input_size, hidden_size, seed=seed, dtype=dtype)
        rng = np.random.default_rng(seed + 1)
        self.w = (rng.standard_normal(hidden_size) / np.sqrt(hidden_size)).astype(dtype)
        self.c = np.zeros(1, dtype=dtype)

    @property
    def params(self):
        return {**{f"rnn.{k}": v for k, v in self.rnn.params.items()}, "w": self.w, "c": self.c}

    def _logits(self, x):
        return self.rnn.forward(x) @ self.w + self.c

    def loss_and_grads(self, x, y):
        y = np.asarray(y)
        Hs = self.rnn.forward(x)
        N, T, _ = Hs.shape
        if y.shape == (N,):  # one label after the last step: only h_T is read out
            loss, dlogit = _bce_with_logits(Hs[:, -1] @ self.w + self.c, y)
            dlogits = np.zeros((N, T), dtype=Hs.dtype)
            dlogits[:, -1] = dlogit
        elif y.shape == (N, T):
            loss, dlogits = _bce_with_logits(Hs @ self.w + self.c, y)
        else:
            raise ValueError(f"y must have shape ({N},) or ({N}, {T}) to match x, got {y.shape}")
        grads = {"w": np.tensordot(dlogits, Hs, axes=([0, 1], [0, 1])),
                 "c": np.array([dlogits.sum()])}
        self.rnn.backward(dlogits[..., None] * self.w)
        grads.update({f"rnn.{k}": v for k, v in self.rnn.grads.items()})
        return loss, grads


class MLPClassifier(_StepClassifier):
    """A one-hidden-layer MLP that sees only the last ``width`` inputs at each step.

    x (N, T, 1) -> window (N, T, width) -> tanh(window W1 + b1) (N, T, hidden) -> logit.
    ``params``: ``W1`` (width, hidden), ``b1`` (hidden,), ``w`` (hidden,), ``c`` (1,).
    """

    def __init__(self, width, hidden_size, *, seed=0, dtype=np.float64):
        rng = np.random.default_rng(seed)
        self.width = int(width)
        self.W1 = _glorot_uniform(rng, (self.width, hidden_size), dtype)
        self.b1 = np.zeros(hidden_size, dtype=dtype)
        self.w = (rng.standard_normal(hidden_size) / np.sqrt(hidden_size)).astype(dtype)
        self.c = np.zeros(1, dtype=dtype)

    @property
    def params(self):
        return {"W1": self.W1, "b1": self.b1, "w": self.w, "c": self.c}

    def _hidden(self, x):
        X = window_features(x, self.width)
        return X, np.tanh(X @ self.W1 + self.b1)

    def _logits(self, x):
        return self._hidden(x)[1] @ self.w + self.c

    def loss_and_grads(self, x, y):
        X, Z = self._hidden(x)
        loss, dlogits = _bce_with_logits(Z @ self.w + self.c, y)
        dA = dlogits[..., None] * self.w * (1.0 - Z * Z)
        grads = {"W1": np.tensordot(X, dA, axes=([0, 1], [0, 1])),
                 "b1": dA.sum(axis=(0, 1)),
                 "w": np.tensordot(dlogits, Z, axes=([0, 1], [0, 1])),
                 "c": np.array([dlogits.sum()])}
        return loss, grads


def train_classifier(model, make_batch, *, steps, lr=1e-2, clip=5.0, seed=0, progress=True,
                     desc="training"):
    """Train ``model`` (RNNClassifier or MLPClassifier) with Adam; returns the loss per step.

    ``make_batch(rng)`` -> (x, y) draws a fresh batch each step (x (N, T, D), y (N, T)) from a
    generator seeded with ``seed``. ``clip``: elementwise gradient clipping limit, or None.
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    rng = np.random.default_rng(seed)
    opt = Adam(lr=lr)
    losses = np.empty(steps)
    bar = progress_bar(steps, desc=desc, disable=not progress)
    for i in range(steps):
        x, y = make_batch(rng)
        loss, grads = model.loss_and_grads(x, y)
        if clip is not None:
            grads = clip_elementwise(grads, clip)
        opt.update(model.params, grads)
        losses[i] = loss
        bar.update(1)
        if i % 50 == 0:
            bar.set_postfix(loss=f"{loss:.3f}", refresh=False)  # shown at the next redraw
    bar.close()
    return losses


# ------------------------------------------------------- the long-lag recall experiment
#: The training budget of the recall experiment, the same for every cell (lessons 04 and 05):
#: hidden units, Adam updates, Adam's learning rate, sequences per update (no clipping).
RECALL_BUDGET = {"hidden_size": 16, "steps": 300, "lr": 1e-2, "batch_size": 32}


def recall_accuracy(cell, lags, *, seed, keep_bias=None, n_test=1000, progress=True,
                    desc=None, **budget):
    """Train one fresh ``RNNClassifier`` per lag on ``make_recall_data``; test accuracy per lag.

    ``cell``: ``"simple"``, ``"lstm"`` or ``"gru"``. ``lags``: the lags to try. Each model gets
    the same budget, ``RECALL_BUDGET`` unless overridden by keyword (``hidden_size``, ``steps``,
    ``lr``, ``batch_size``), Adam without clipping, and its own seeded draws (``seed``).
    ``keep_bias``: start the "keep the old state" gate's bias at this value instead of Keras's
    default (the LSTM's forget gate, default 1; the GRU's update gate z, default 0); not
    defined for the SimpleRNN, which has no gate. Returns an array (len(lags),) of accuracies on
    ``n_test`` fresh sequences per lag; 0.5 is chance.
    """
    budget = {**RECALL_BUDGET, **budget}
    unknown = set(budget) - set(RECALL_BUDGET)
    if unknown:
        raise ValueError(f"unknown budget keys {sorted(unknown)}; expected {sorted(RECALL_BUDGET)}")
    if keep_bias is not None and cell not in ("lstm", "gru"):
        raise ValueError(f"keep_bias needs a gated cell ('lstm' or 'gru'), got cell={cell!r}")
    lags = [int(lag) for lag in lags]
    if not lags or min(lags) < 0:
        raise ValueError(f"lags must be a non-empty list of integers >= 0, got {lags}")
    H = budget["hidden_size"]
    bar = progress_bar(len(lags), desc=desc or f"{cell}, lags {lags[0]}..{lags[-1]}",
                       disable=not progress)
    accuracies = np.empty(len(lags))
    for k, lag in enumerate(lags):
        model = RNNClassifier(2 + 4, H, cell=cell, seed=seed)
        if keep_bias is not None:
            b = model.rnn.params["b"]
            if cell == "lstm":
                b[H:2 * H] = keep_bias  # the forget-gate block
            else:
                b[0, :H] = keep_bias  # the z block of the GRU's input-side bias row
        train_classifier(model, lambda r, lag=lag: make_recall_data(budget["batch_size"], lag, rng=r),
                         steps=budget["steps"], lr=budget["lr"], clip=None, seed=seed,
                         progress=False)
        x, y = make_recall_data(n_test, lag, rng=np.random.default_rng((seed, lag)))
        accuracies[k] = model.accuracy(x, y)
        bar.update(1)
    bar.close()
    return accuracies


# --------------------------------------------------------------------------- figure
