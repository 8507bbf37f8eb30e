"""Categorical embeddings: one-hot versus learned vectors, and where a category ends up.

Lesson 03 uses this module. It holds

* a small table of facts (the 16 German state capitals and their coordinates) and simulators
  for targets that depend on them (``simulate_travel_times``, ``simulate_shop_sales``);
* ``CategoryIndex``, a vocabulary that turns category names into integer ids and handles a
  category it never saw (an out-of-vocabulary bucket, or a ``ValueError`` naming it);
* ``procrustes_align``: the rotation/reflection, scale and shift that best lays one point cloud
  on another, used to compare a learned 2-D embedding with the real map;
* small Keras model builders (one-hot input, ``Embedding`` input, a travel-time model) and the
  figures the lesson shows.

TensorFlow/Keras are imported inside the functions that need them, so the NumPy parts stay fast.

Shapes: ``N`` rows, ``K`` categories, ``F`` numeric features, ``D`` embedding dimensions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np


class Capital(NamedTuple):
    """One German federal state and its capital, with the capital's position in degrees."""

    state: str
    city: str
    lat: float  # degrees north
    lon: float  # degrees east


#: The 16 German federal states and their capitals (for the three city states the city itself).
#: Source: approximate latitude/longitude of each state capital's city centre, rounded to
#: 0.01 degrees (about 1 km); public geographic facts.
GERMAN_STATE_CAPITALS: tuple[Capital, ...] = (
    Capital("Baden-Württemberg", "Stuttgart", 48.78, 9.18),
    Capital("Bavaria", "Munich", 48.14, 11.58),
    Capital("Berlin", "Berlin", 52.52, 13.40),
    Capital("Brandenburg", "Potsdam", 52.39, 13.06),
    Capital("Bremen", "Bremen", 53.08, 8.80),
    Capital("Hamburg", "Hamburg", 53.55, 9.99),
    Capital("Hesse", "Wiesbaden", 50.08, 8.24),
    Capital("Lower Saxony", "Hanover", 52.37, 9.73),
    Capital("Mecklenburg-Vorpommern", "Schwerin", 53.63, 11.41),
    Capital("North Rhine-Westphalia", "Düsseldorf", 51.23, 6.77),
    Capital("Rhineland-Palatinate", "Mainz", 50.00, 8.27),
    Capital("Saarland", "Saarbrücken", 49.24, 6.99),
    Capital("Saxony", "Dresden", 51.05, 13.74),
    Capital("Saxony-Anhalt", "Magdeburg", 52.13, 11.63),
    Capital("Schleswig-Holstein", "Kiel", 54.32, 10.13),
    Capital("Thuringia", "Erfurt", 50.98, 11.03),
)

_KM_PER_DEGREE_LAT = 111.2  # mean length of one degree of latitude on the Earth


def capital_coordinates_km(capitals: Sequence[Capital] = GERMAN_STATE_CAPITALS) -> np.ndarray:
    """Project the capitals onto a flat map in kilometres, centred on their mean.

    An equirectangular projection at the mean latitude: good to about 1 % across a country the
    size of Germany, plenty for comparing shapes.

    Returns ``xy`` of shape ``(K, 2)``: column 0 is km east, column 1 is km north.
    """
    if len(capitals) < 2:
        raise ValueError(f"need at least 2 capitals to make a map, got {len(capitals)}")
    lat = np.array([c.lat for c in capitals], dtype=np.float64)
    lon = np.array([c.lon for c in capitals], dtype=np.float64)
    lat0, lon0 = lat.mean(), lon.mean()
    # A degree of longitude shrinks with the cosine of the latitude.
    east = (lon - lon0) * _KM_PER_DEGREE_LAT * np.cos(np.radians(lat0))
    north = (lat - lat0) * _KM_PER_DEGREE_LAT
    return np.stack([east, north], axis=1)


def pairwise_distances(xy: np.ndarray) -> np.ndarray:
    """Euclidean distances between all pairs of points: ``xy (K, D) -> (K, K)``."""
    xy = np.asarray(xy, dtype=np.float64)
    if xy.ndim != 2:
        raise ValueError(f"xy must be a 2-D array (points, dims), got shape {xy.shape}")
    diff = xy[:, None, :] - xy[None, :, :]
    return np.sqrt((diff**2).sum(axis=-1))


def simulate_travel_times(
    xy_km: np.ndarray,
    n_trips: int,
    rng: np.random.Generator,
    *,
    detour: float = 1.3,
    speed_kmh: float = 85.0,
    overhead_h: float = 0.4,
    noise: float = 0.15,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simulate door-to-door car journeys between random pairs of distinct places.

    A SIMULATION, not measured data: ``hours = (overhead_h + detour * distance / speed_kmh)``
    times a log-normal traffic factor with spread ``noise``. Roads are longer than the straight
    line (``detour``), and every trip pays a fixed ``overhead_h`` to get out of town.

    Args:
        xy_km: ``(K, 2)`` true positions in km.
        n_trips: number of journeys ``N``.
        rng: the NumPy generator that draws the trips and the traffic.

    Returns:
        ``origin (N,)`` int64, ``destination (N,)`` int64 (never equal to ``origin``),
        ``hours (N,)`` float32.
    """
    xy_km = np.asarray(xy_km, dtype=np.float64)
    if xy_km.ndim != 2 or xy_km.shape[0] < 2:
        raise ValueError(f"xy_km must have shape (K >= 2, dims), got {xy_km.shape}")
    if n_trips < 1:
        raise ValueError(f"n_trips must be positive, got {n_trips}")
    k = xy_km.shape[0]
    origin = rng.integers(0, k, size=n_trips)
    # Adding 1..K-1 modulo K picks a uniformly random *other* place.
    destination = (origin + rng.integers(1, k, size=n_trips)) % k
    typical = expected_travel_hours(
        xy_km, origin, destination, detour=detour, speed_kmh=speed_kmh, overhead_h=overhead_h
    )
    hours = typical * rng.lognormal(0.0, noise, n_trips)
    return origin.astype(np.int64), destination.astype(np.int64), hours.astype(np.float32)


def expected_travel_hours(
    xy_km: np.ndarray,
    origin: np.ndarray,
    destination: np.ndarray,
    *,
    detour: float = 1.3,
    speed_kmh: float = 85.0,
    overhead_h: float = 0.4,
) -> np.ndarray:
    """The traffic-free journey time of ``simulate_travel_times``: ``(N,)`` hours for the
    ``origin (N,)`` / ``destination (N,)`` pairs of places in ``xy_km (K, 2)``."""
    xy_km = np.asarray(xy_km, dtype=np.float64)
    origin, destination = np.asarray(origin), np.asarray(destination)
    k = xy_km.shape[0]
    for name, ids in (("origin", origin), ("destination", destination)):
        if ids.size and (ids.min() < 0 or ids.max() >= k):
            raise ValueError(
                f"{name} ids must be in [0, {k}), got values from {ids.min()} to {ids.max()}"
            )
    distance = np.linalg.norm(xy_km[origin] - xy_km[destination], axis=-1)
    return overhead_h + detour * distance / speed_kmh


class ShopSales(NamedTuple):
    """A simulated high-cardinality data set (see ``simulate_shop_sales``)."""

    shop: np.ndarray  # (N,) int64 shop id in [0, K)
    features: np.ndarray  # (N, F) float32 numeric features of the day
    sales: np.ndarray  # (N,) float32 target
    shop_traits: np.ndarray  # (K, 2) the hidden traits that drive each shop's sales


def simulate_shop_sales(
    n_shops: int, rows_per_shop: int, rng: np.random.Generator, *, noise: float = 0.5
) -> ShopSales:
    """Simulate daily sales of many small shops, each seen on only a few days.

    A SIMULATION. Every shop has two hidden traits ``z (2,)``: how busy it is in general, and
    how strongly it reacts to good weather. A day has ``F = 3`` standardised features
    (weather, promotion, weekend). Sales are

        ``1.0 * z0 + z1 * weather + 0.5 * promotion + 0.3 * weekend + 0.2 * weather * weekend``

    plus Gaussian noise with standard deviation ``noise``. A model has to learn the two traits
    of each shop from the shop's few rows.

    Returns a ``ShopSales`` with ``N = n_shops * rows_per_shop`` rows in shop order.
    """
    if n_shops < 1 or rows_per_shop < 1:
        raise ValueError(
            f"n_shops and rows_per_shop must be positive, got {n_shops} and {rows_per_shop}"
        )
    traits = rng.normal(size=(n_shops, 2))
    shop = np.repeat(np.arange(n_shops), rows_per_shop)
    n = shop.size
    weather = rng.normal(size=n)
    promotion = (rng.random(n) < 0.3).astype(np.float64)
    weekend = (rng.random(n) < 2 / 7).astype(np.float64)
    z = traits[shop]
    sales = (
        z[:, 0]
        + z[:, 1] * weather
        + 0.5 * promotion
        + 0.3 * weekend
        + 0.2 * weather * weekend
        + rng.normal(scale=noise, size=n)
    )
    features = np.stack([weather, promotion, weekend], axis=1)
    return ShopSales(
        shop.astype(np.int64), features.astype(np.float32), sales.astype(np.float32), traits
    )


def split_by_pair(
    origin: np.ndarray, destination: np.ndarray, n_valid_pairs: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Hold out every journey between ``n_valid_pairs`` random (unordered) pairs of places.

    Validation then measures how well a model predicts pairs it never saw in training (A to B
    and B to A both held out), not how well it remembers the pairs it saw. Every place keeps
    some training journeys (the draw is repeated until it does).

    Args:
        origin, destination: ``(N,)`` integer place of each journey (never equal).

    Returns:
        ``train_idx (N_train,)`` and ``valid_idx (N_valid,)``, sorted row indices.
    """
    origin, destination = np.asarray(origin), np.asarray(destination)
    if origin.ndim != 1 or origin.shape != destination.shape:
        raise ValueError(f"origin and destination must be 1-D of one length, got "
                         f"{origin.shape} and {destination.shape}")
    pair = np.minimum(origin, destination) * (int(max(origin.max(), destination.max())) + 1) \
        + np.maximum(origin, destination)
    pairs = np.unique(pair)
    if not 0 < n_valid_pairs < pairs.size:
        raise ValueError(f"n_valid_pairs must be in 1..{pairs.size - 1} (the journeys have "
                         f"{pairs.size} different pairs), got {n_valid_pairs}")
    places = np.unique(np.r_[origin, destination])
    for _ in range(1000):
        held = np.isin(pair, rng.choice(pairs, n_valid_pairs, replace=False))
        if np.isin(places, np.r_[origin[~held], destination[~held]]).all():
            return np.flatnonzero(~held), np.flatnonzero(held)
    raise ValueError(f"could not hold out {n_valid_pairs} pairs and keep every place in training")


def split_rows_per_category(
    category: np.ndarray, n_valid_per_category: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Hold out ``n_valid_per_category`` random rows of every category for validation.

    Every category then appears in both parts, so validation measures how well a model learned
    each category from its own few rows (not how it copes with unseen ones).

    Args:
        category: ``(N,)`` integer category of each row.

    Returns:
        ``train_idx (N_train,)`` and ``valid_idx (N_valid,)``, sorted row indices.
    """
    category = np.asarray(category)
    if category.ndim != 1:
        raise ValueError(f"category must be 1-D, got shape {category.shape}")
    _, counts = np.unique(category, return_counts=True)
    if counts.min() <= n_valid_per_category:
        raise ValueError(
            f"every category needs more than n_valid_per_category={n_valid_per_category} rows "
            f"so that some are left to train on; the smallest has {counts.min()}"
        )
    # A random key per row, then rank rows within their category by that key.
    order = np.lexsort((rng.random(category.size), category))
    rank = np.empty(category.size, dtype=np.int64)
    sorted_cat = category[order]
    starts = np.flatnonzero(np.r_[True, sorted_cat[1:] != sorted_cat[:-1]])
    run_start = np.repeat(starts, np.diff(np.r_[starts, category.size]))
    rank[order] = np.arange(category.size) - run_start
    valid = rank < n_valid_per_category
    return np.flatnonzero(~valid), np.flatnonzero(valid)


# --------------------------------------------------------------------------------------------
# From names to ids, one-hot, and what to do with a category never seen in training
# --------------------------------------------------------------------------------------------


def one_hot(ids: np.ndarray, num_categories: int) -> np.ndarray:
    """One-hot rows: ``ids (N,)`` ints in ``[0, num_categories)`` -> ``(N, num_categories)``."""
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"ids must be a 1-D integer array, got {ids.dtype} with shape {ids.shape}")
    if ids.size and (ids.min() < 0 or ids.max() >= num_categories):
        bad = ids[(ids < 0) | (ids >= num_categories)][0]
        raise ValueError(f"id {bad} is outside [0, {num_categories}) (num_categories)")
    out = np.zeros((ids.size, num_categories), dtype=np.float32)
    out[np.arange(ids.size), ids] = 1.0
    return out


class CategoryIndex:
    """A vocabulary for one categorical feature, with id 0 kept for "never seen".

    ``CategoryIndex(values)`` assigns ids ``1..V`` to the distinct values (most frequent first,
    ties in sorted order, so the ids do not depend on row order) and keeps id ``0`` as the
    out-of-vocabulary (OOV) bucket. An ``Embedding`` over these ids needs
    ``input_dim = len(index)`` = ``V + 1`` rows.

    ``encode(values)`` raises a ``ValueError`` naming the unseen values by default;
    ``encode(values, unknown="oov")`` maps them to ``OOV_ID`` instead. Either way no id can
    reach an ``Embedding`` that is out of its range.
    """

    OOV_ID = 0
    OOV_TOKEN = "<unseen>"

    def __init__(self, values: Iterable, *, min_count: int = 1):
        if min_count < 1:
            raise ValueError(f"min_count must be at least 1, got {min_count}")
        counts = Counter(values)
        if not counts:
            raise ValueError("cannot build a CategoryIndex from no values")
        kept = [v for v, c in counts.items() if c >= min_count]
        # Rare values (below min_count) share the OOV bucket with unseen ones.
        kept.sort(key=lambda v: (-counts[v], str(v)))
        self.categories: list = kept
        self._id = {v: i + 1 for i, v in enumerate(kept)}

    def __len__(self) -> int:
        """Number of ids, including the OOV bucket: the ``Embedding`` ``input_dim``."""
        return len(self.categories) + 1

    def __contains__(self, value) -> bool:
        return value in self._id

    def encode(self, values: Iterable, *, unknown: str = "error") -> np.ndarray:
        """Ids of ``values (N,)`` -> int64 ``(N,)``.

        ``unknown="error"`` raises a ``ValueError`` listing the values not in the vocabulary;
        ``unknown="oov"`` maps them to ``OOV_ID`` (0).
        """
        if unknown not in ("error", "oov"):
            raise ValueError(f'unknown must be "error" or "oov", got {unknown!r}')
        values = list(values)
        ids = np.fromiter((self._id.get(v, self.OOV_ID) for v in values), np.int64, len(values))
        if unknown == "error" and (ids == self.OOV_ID).any():
            unseen = sorted({str(v) for v, i in zip(values, ids, strict=True) if i == self.OOV_ID})
            shown = ", ".join(repr(u) for u in unseen[:5]) + (" ..." if len(unseen) > 5 else "")
            raise ValueError(
                f"{len(unseen)} categor{'y' if len(unseen) == 1 else 'ies'} not seen in "
                f"training: {shown}; expected one of the {len(self.categories)} known "
                'categories, or call encode(..., unknown="oov") to map them to the OOV bucket'
            )
        return ids

    def decode(self, ids: Iterable[int]) -> list:
        """Values of ``ids (N,)``; ``OOV_ID`` decodes to ``OOV_TOKEN``."""
        out = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(self):
                raise ValueError(f"id {i} is outside [0, {len(self)})")
            out.append(self.OOV_TOKEN if i == self.OOV_ID else self.categories[i - 1])
        return out


def replace_with_oov(ids: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Copy of ``ids (N,)`` with a random fraction ``rate`` set to ``CategoryIndex.OOV_ID``.

    Training on a few such rows teaches the OOV bucket's embedding what an "average" category
    looks like, so an unseen category later gets a sensible prediction instead of an untrained
    random vector.
    """
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"rate must be in [0, 1), got {rate}")
    ids = np.array(ids, dtype=np.int64, copy=True)
    ids[rng.random(ids.shape) < rate] = CategoryIndex.OOV_ID
    return ids


# --------------------------------------------------------------------------------------------
# Orthogonal Procrustes: compare two maps up to rotation, reflection, scale and shift
# --------------------------------------------------------------------------------------------


class Procrustes(NamedTuple):
    """``aligned = scale * source @ rotation + shift`` is the best fit to the target."""

    aligned: np.ndarray  # (K, D) the source after alignment
    rotation: np.ndarray  # (D, D) orthogonal: a rotation, possibly with a reflection
    scale: float
    shift: np.ndarray  # (D,)
    rmse: float  # root mean squared distance between aligned and target points


def procrustes_align(source: np.ndarray, target: np.ndarray, *, scale: bool = True) -> Procrustes:
    """Rotate/reflect, scale and shift ``source (K, D)`` to lie as close as possible to
    ``target (K, D)`` (least squares over the ``K`` matched points).

    The classic solution: centre both clouds, take the SVD ``U S V^T`` of ``A^T B`` (A the
    centred source, B the centred target); the best orthogonal map is ``R = U V^T`` and the best
    scale is ``sum(S) / ||A||^2``. Reflections are allowed on purpose: an embedding has no
    reason to prefer a map over its mirror image.
    """
    a = np.asarray(source, dtype=np.float64)
    b = np.asarray(target, dtype=np.float64)
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(
            f"source and target must be 2-D arrays of the same shape (points, dims), got "
            f"{a.shape} and {b.shape}"
        )
    if a.shape[0] < 2:
        raise ValueError(f"need at least 2 matched points, got {a.shape[0]}")
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    a0, b0 = a - mu_a, b - mu_b
    norm_a = (a0**2).sum()
    if norm_a == 0.0:
        raise ValueError("source points are all identical: there is no shape to align")
    u, s, vt = np.linalg.svd(a0.T @ b0)
    rotation = u @ vt
    k = s.sum() / norm_a if scale else 1.0
    shift = mu_b - k * mu_a @ rotation
    aligned = k * a @ rotation + shift
    rmse = float(np.sqrt(((aligned - b) ** 2).sum(axis=1).mean()))
    return Procrustes(aligned, rotation, float(k), shift, rmse)


def random_alignment_errors(
    target: np.ndarray, n_draws: int, rng: np.random.Generator
) -> np.ndarray:
    """Procrustes RMSE of ``n_draws`` random embeddings aligned to ``target (K, D)``.

    Each draw is ``K`` standard-normal points in ``D`` dimensions: what an untrained embedding
    looks like. The errors ``(n_draws,)`` are the baseline a learned map has to beat; the
    best-fitting scale makes the random points' own size irrelevant.
    """
    target = np.asarray(target, dtype=np.float64)
    if target.ndim != 2:
        raise ValueError(f"target must have shape (points, dims), got {target.shape}")
    if n_draws < 1:
        raise ValueError(f"n_draws must be positive, got {n_draws}")
    return np.array(
        [procrustes_align(rng.normal(size=target.shape), target).rmse for _ in range(n_draws)]
    )


# --------------------------------------------------------------------------------------------
# Keras models
# --------------------------------------------------------------------------------------------


def build_travel_time_model(num_places: int, dim: int = 2, *, learning_rate: float = 0.05):
    """A model that must place every city on a learned ``dim``-D map to predict travel times.

    Inputs ``origin (N,)`` and ``destination (N,)`` share one ``Embedding(num_places, dim)``
    named ``"position"``; the prediction is ``w * ||e_origin - e_destination|| + b`` hours.
    The only way to fit the times is to put cities that are far apart far apart, so the
    embedding becomes a map (up to rotation, reflection, scale and shift).

    Returns a compiled ``keras.Model`` with inputs ``[origin, destination]`` and output
    ``hours (N, 1)``.
    """
    import keras

    if num_places < 2 or dim < 1:
        raise ValueError(f"need num_places >= 2 and dim >= 1, got {num_places} and {dim}")
    origin = keras.Input(shape=(), dtype="int32", name="origin")
    destination = keras.Input(shape=(), dtype="int32", name="destination")
    position = keras.layers.Embedding(
        num_places, dim, embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0),
        name="position",
    )
    diff = position(origin) - position(destination)
    # The small constant keeps the gradient of sqrt finite if two cities land on one spot.
    distance = keras.ops.sqrt(keras.ops.sum(diff**2, axis=-1, keepdims=True) + 1e-6)
    hours = keras.layers.Dense(1, name="hours_per_unit")(distance)
    model = keras.Model([origin, destination], hours, name="travel_time")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse", metrics=["mae"])
    return model


def build_travel_time_mlp(num_places: int, dim: int = 2, *, hidden: int = 64,
                          learning_rate: float = 0.01):
    """Travel times from the two cities' embeddings through an MLP that is not told about distance.

    ``Embedding(num_places, dim)`` named ``"position"`` (shared by origin and destination); the
    two vectors are concatenated and passed through two ``Dense(hidden, relu)`` layers and a
    linear output, as in Guo & Berkhahn's (2016) entity embeddings. Nothing forces the
    embedding to be a map; whether it becomes one is an empirical question.
    Returns a compiled ``keras.Model`` with inputs ``[origin, destination]``, output ``(N, 1)``.
    """
    import keras

    if num_places < 2 or dim < 1 or hidden < 1:
        raise ValueError(f"need num_places >= 2, dim >= 1, hidden >= 1, got {num_places}, "
                         f"{dim}, {hidden}")
    origin = keras.Input(shape=(), dtype="int32", name="origin")
    destination = keras.Input(shape=(), dtype="int32", name="destination")
    position = keras.layers.Embedding(num_places, dim, name="position")
    x = keras.layers.Concatenate()([position(origin), position(destination)])
    x = keras.layers.Dense(hidden, activation="relu")(x)
    x = keras.layers.Dense(hidden, activation="relu")(x)
    hours = keras.layers.Dense(1)(x)
    model = keras.Model([origin, destination], hours, name="travel_time_mlp")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse", metrics=["mae"])
    return model


def best_achievable_mse(sales: ShopSales, train: np.ndarray, valid: np.ndarray, *,
                        noise: float) -> float:
    """Validation MSE of the best predictor that knows the formula but not the shops' traits.

    It knows ``simulate_shop_sales``'s formula, the noise level and that traits are standard
    normal, and estimates each shop's two traits from that shop's training rows alone (the
    posterior mean: least squares shrunk towards 0 by ``noise**2``). Its error on the validation
    rows is what any model trained on these rows can at best hope for, on average; the noise
    floor ``noise**2`` is reached only with infinitely many rows per shop.
    """
    train, valid = np.asarray(train), np.asarray(valid)
    if noise <= 0:
        raise ValueError(f"noise must be positive, got {noise}")
    w, promo, weekend = (sales.features[:, i].astype(np.float64) for i in range(3))
    known = 0.5 * promo + 0.3 * weekend + 0.2 * w * weekend
    X = np.stack([np.ones_like(w), w], axis=1)  # sales - known = X @ traits + noise
    r = sales.sales.astype(np.float64) - known
    shops = sales.shop
    K = int(shops.max()) + 1
    # per-shop normal equations, (K, 2, 2) and (K, 2), plus the prior's noise**2 * I
    XtX = np.zeros((K, 2, 2))
    Xtr = np.zeros((K, 2))
    np.add.at(XtX, shops[train], X[train, :, None] * X[train, None, :])
    np.add.at(Xtr, shops[train], X[train] * r[train, None])
    traits = np.linalg.solve(XtX + noise**2 * np.eye(2), Xtr[..., None])[..., 0]
    pred = known[valid] + (X[valid] * traits[shops[valid]]).sum(axis=1)
    return float(np.mean((sales.sales[valid] - pred) ** 2))


def build_onehot_model(
    num_categories: int, num_features: int, *, hidden: int = 32, learning_rate: float = 0.01,
    l2: float = 0.0,
):
    """Category as a one-hot vector, concatenated with the numeric features, into an MLP.

    Inputs ``category (N,)`` int and ``features (N, F)``; output ``(N, 1)``. The first
    ``Dense`` layer holds ``hidden`` weights per category: in effect a ``hidden``-D embedding
    that nothing keeps small, unless ``l2 > 0`` adds ``l2 * sum(W**2)`` over that block (the
    first ``num_categories`` rows of the kernel; the features' rows are not penalised) to the
    loss. An embedding of size ``D`` is the same layer forced to rank ``D``: its
    ``(K, hidden)`` block of weights factorised as ``(K, D) @ (D, hidden)``.

    Compiled with ``metrics=["mse"]``: Keras's ``loss``/``val_loss`` include the L2 penalty, the
    ``mse``/``val_mse`` metrics are the squared error alone, comparable across models.
    """
    import keras

    _check_model_sizes(num_categories, num_features, hidden)
    category = keras.Input(shape=(), dtype="int32", name="category")
    features = keras.Input(shape=(num_features,), name="features")
    onehot = keras.layers.CategoryEncoding(num_categories, output_mode="one_hot", name="one_hot")
    if l2 < 0:
        raise ValueError(f"l2 must be >= 0, got {l2}")
    x = keras.layers.Concatenate()([onehot(category), features])
    reg = _rows_l2(l2, num_categories) if l2 > 0 else None
    x = keras.layers.Dense(hidden, activation="relu", name="hidden", kernel_regularizer=reg)(x)
    out = keras.layers.Dense(1, name="out")(x)
    model = keras.Model([category, features], out, name="one_hot_mlp")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse", metrics=["mse"])
    return model


def build_embedding_model(
    num_categories: int,
    num_features: int,
    *,
    dim: int = 2,
    hidden: int = 32,
    learning_rate: float = 0.01,
):
    """Category through a learned ``Embedding(num_categories, dim)``, then the same MLP.

    Inputs ``category (N,)`` int and ``features (N, F)``; output ``(N, 1)``. Each category
    owns only ``dim`` numbers; the ``hidden`` layer is shared by all categories.
    """
    import keras

    _check_model_sizes(num_categories, num_features, hidden)
    if dim < 1:
        raise ValueError(f"dim must be positive, got {dim}")
    category = keras.Input(shape=(), dtype="int32", name="category")
    features = keras.Input(shape=(num_features,), name="features")
    vector = keras.layers.Embedding(num_categories, dim, name="embedding")(category)
    x = keras.layers.Concatenate()([vector, features])
    x = keras.layers.Dense(hidden, activation="relu", name="hidden")(x)
    out = keras.layers.Dense(1, name="out")(x)
    model = keras.Model([category, features], out, name="embedding_mlp")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse", metrics=["mse"])
    return model


def _rows_l2(l2: float, rows: int):
    """A Keras regulariser adding ``l2 * sum(W[:rows] ** 2)``: the one-hot block of a kernel."""
    import keras

    class RowsL2(keras.regularizers.Regularizer):
        def __call__(self, weights):
            return l2 * keras.ops.sum(keras.ops.square(weights[:rows]))

        def get_config(self):
            return {"l2": l2, "rows": rows}

    return RowsL2()


def _check_model_sizes(num_categories: int, num_features: int, hidden: int) -> None:
    if num_categories < 1 or num_features < 0 or hidden < 1:
        raise ValueError(
            "need num_categories >= 1, num_features >= 0 and hidden >= 1, got "
            f"{num_categories}, {num_features} and {hidden}"
        )


def fit_with_progress(
    model, x, y, *, validation_data, epochs: int, batch_size: int, desc: str = "training",
    progress: bool = True,
) -> dict[str, list[float]]:
    """``model.fit`` with one progress bar over the epochs instead of Keras' per-batch log
    (``progress=False``: no bar, e.g. in benchmarks).

    Returns the history dict (``"loss"``, ``"val_loss"``, ... -> one float per epoch).
    """
    from course_utils.progress import keras_progress

    if epochs < 1:
        raise ValueError(f"epochs must be positive, got {epochs}")
    history = model.fit(
        x, y, validation_data=validation_data, epochs=epochs, batch_size=batch_size,
        verbose=0, callbacks=[keras_progress(epochs, desc=desc, unit="epoch", show=progress)],
    )
    return {k: [float(v) for v in vals] for k, vals in history.history.items()}


def tune_learning_rate(build, rates: Sequence[float], fit_data, tune_data, *, epochs: int,
                       batch_size: int, seed_offset: int = 0, progress: bool = True,
                       desc: str = "model", **build_kwargs):
    """Train ``build(learning_rate=lr, **build_kwargs)`` once per rate, each from the same
    ``course_utils.set_seed(seed_offset)``, on ``fit_data = (x, y)``; keep the rate whose final
    validation MAE on ``tune_data = (x, y)`` is lowest (the first on a tie).

    Returns ``(best_rate, best_model, histories)``, ``histories`` mapping each rate to its
    history dict (``"mae"``, ``"val_mae"``, ... -> one float per epoch).
    """
    import course_utils

    rates = [float(r) for r in rates]
    if not rates or not all(r > 0 for r in rates):
        raise ValueError(f"rates must be a non-empty list of positive learning rates, got {rates}")
    best, histories = None, {}
    for lr in rates:
        course_utils.set_seed(seed_offset)
        model = build(learning_rate=lr, **build_kwargs)
        history = fit_with_progress(model, *fit_data, validation_data=tune_data, epochs=epochs,
                                    batch_size=batch_size, desc=f"{desc} lr {lr:g}",
                                    progress=progress)
        histories[lr] = history
        if best is None or history["val_mae"][-1] < best[0]:
            best = (history["val_mae"][-1], lr, model)
    return best[1], best[2], histories


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------




def german_map_figure(
    true_xy: np.ndarray, learned_xy: np.ndarray, names: Sequence[str], aligned_xy: np.ndarray
):
    """Three panels: the real map ``true_xy (K, 2)`` km, the raw learned embedding
    ``learned_xy (K, 2)``, and the Procrustes-aligned embedding ``aligned_xy (K, 2)`` on top of
    the real positions (a grey line joins each city to where the model put it).

    Returns the open pyplot figure, so a notebook shows it inline (``plt.show()``);
    ``draw_german_map`` saves it instead.
    """
    import matplotlib.pyplot as plt

    true_xy, learned_xy, aligned_xy = (np.asarray(a) for a in (true_xy, learned_xy, aligned_xy))
    if not (true_xy.shape == learned_xy.shape == aligned_xy.shape == (len(names), 2)):
        raise ValueError(
            f"expected three (K, 2) arrays with K={len(names)} names, got {true_xy.shape}, "
            f"{learned_xy.shape} and {aligned_xy.shape}"
        )
    from course_utils.embeddings import place_labels

    fig, axes = plt.subplots(1, 3, figsize=(14.0, 5.6))
    panels = [(true_xy, "Real map (km)"), (learned_xy, "Learned embedding, as trained")]
    for ax, (pts, title) in zip(axes[:2], panels, strict=True):
        ax.scatter(pts[:, 0], pts[:, 1], color="#1f77b4", s=25)
        _pad_limits(ax, pts)
        place_labels(ax, pts, list(names), fontsize=7)
        ax.set_title(title)
    ax = axes[2]
    for t, a in zip(true_xy, aligned_xy, strict=True):
        ax.plot([t[0], a[0]], [t[1], a[1]], color="0.6", linewidth=1)
    ax.scatter(true_xy[:, 0], true_xy[:, 1], facecolors="none", edgecolors="k", s=45,
               label="real")
    ax.scatter(aligned_xy[:, 0], aligned_xy[:, 1], color="#d62728", s=18,
               label="learned, after Procrustes")
    _pad_limits(ax, np.vstack([true_xy, aligned_xy]))
    place_labels(ax, true_xy, list(names), fontsize=7)
    ax.set_title("Aligned to the real map (km)")
    # below the panel, where it cannot hide a city (Kiel is the northernmost)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, fontsize=8)
    for ax in (axes[0], axes[2]):
        ax.set_aspect("equal")
        ax.set_xlabel("km east")
        ax.set_ylabel("km north")
    axes[1].set_aspect("equal")
    fig.tight_layout()
    return fig


def _pad_limits(ax, pts: np.ndarray) -> None:
    """Axis limits with room around ``pts`` for labels."""
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = 0.12 * (hi - lo)
    ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
    ax.set_ylim(lo[1] - pad[1], hi[1] + pad[1])


def draw_german_map(
    path, true_xy: np.ndarray, learned_xy: np.ndarray, names: Sequence[str], aligned_xy: np.ndarray
) -> None:
    """Save ``german_map_figure(true_xy, learned_xy, names, aligned_xy)`` as a PNG at ``path``."""
    import matplotlib.pyplot as plt

    fig = german_map_figure(true_xy, learned_xy, names, aligned_xy)
    fig.savefig(path, dpi=80, metadata={"Software": None})
    plt.close(fig)


def learning_curves_figure(histories: dict[str, dict], *, noise_floor: float | None = None,
                           best_achievable: float | None = None, metric: str = "loss"):
    """Training (dashed) and validation (solid) MSE per epoch, one colour per model.

    ``histories`` maps a model name to its ``fit_with_progress`` history. ``noise_floor`` draws
    the MSE of a perfect model (the simulated noise variance) as a dotted line;
    ``best_achievable`` (``best_achievable_mse``) the best validation MSE that the training rows
    allow, dash-dotted. ``metric`` names the curves: ``"loss"`` plots ``loss``/``val_loss``,
    ``"mse"`` plots ``mse``/``val_mse`` (the squared error without an L2 penalty). Returns the
    open pyplot figure (``draw_learning_curves`` saves it instead).
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if not histories:
        raise ValueError("histories is empty: nothing to plot")
    fig, ax = plt.subplots(figsize=(7.0, 4.0))
    for (name, h), colour in zip(histories.items(), ["#d62728", "#1f77b4", "#2ca02c"],
                                 strict=False):
        if metric not in h or f"val_{metric}" not in h:
            raise ValueError(f"history {name!r} needs {metric!r} and 'val_{metric}', has "
                             f"{sorted(h)}")
        epochs = np.arange(1, len(h[metric]) + 1)
        ax.plot(epochs, h[metric], "--", color=colour, label=f"{name}: training")
        ax.plot(epochs, h[f"val_{metric}"], "-", color=colour, label=f"{name}: validation")
    if noise_floor is not None:
        ax.axhline(noise_floor, color="k", linestyle=":", label="noise floor (perfect model)")
    if best_achievable is not None:
        ax.axhline(best_achievable, color="0.4", linestyle="-.",
                   label="best achievable from these rows")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean squared error")
    ax.set_ylim(0, 2.0)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def draw_learning_curves(path, histories: dict[str, dict], *, noise_floor: float | None = None,
                         best_achievable: float | None = None, metric: str = "loss"):
    """Save ``learning_curves_figure(histories, ...)`` as a PNG at ``path``."""
    import matplotlib.pyplot as plt

    fig = learning_curves_figure(histories, noise_floor=noise_floor,
                                 best_achievable=best_achievable, metric=metric)
    fig.savefig(path, dpi=80, metadata={"Software": None})
    plt.close(fig)
