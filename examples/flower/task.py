"""The model the example trains: a linear regression in numpy, small enough that the round
around it is what the example shows. Each party's data is made from its own seed and stays
with it; only the weights move."""

import numpy as np

FEATURES = 4
TRUE_WEIGHTS = np.array([2.0, -1.0, 0.5, 3.0])
TRUE_BIAS = 0.25


def initial() -> dict[str, np.ndarray]:
    """The global model before round 1."""
    return {"weights": np.zeros(FEATURES), "bias": np.zeros(1)}


def local_data(seed: int, examples: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """A party's own examples: the same relation everywhere, with noise."""
    generator = np.random.default_rng(seed)
    x = generator.normal(size=(examples, FEATURES))
    y = x @ TRUE_WEIGHTS + TRUE_BIAS + generator.normal(scale=0.1, size=examples)
    return x, y


def loss(model: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((x @ model["weights"] + model["bias"][0] - y) ** 2))


def train(
    model: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, steps: int = 20, rate: float = 0.1
) -> dict[str, np.ndarray]:
    """Gradient descent on the mean squared error, from `model`."""
    weights, bias = model["weights"].astype(float), model["bias"].astype(float)
    for _ in range(steps):
        error = x @ weights + bias[0] - y
        weights = weights - rate * 2 * x.T @ error / len(y)
        bias = bias - rate * 2 * np.array([error.mean()])
    return {"weights": weights, "bias": bias}
