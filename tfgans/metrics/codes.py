"""How well a latent code agrees with classes: the normalised mutual information of two
labelings and the number of distinct majority classes (InfoGAN's categorical code against
a classifier's labels of the generated images).

NMI alone can be high for a code that splits one class finely; purity alone rewards
collapse (every code value drawing the same easy class). Reported together with the count
of distinct majority classes, they say whether the code found the classes.

Computed in float64 from the contingency table, with natural logarithms (NMI does not
depend on the base).
"""

import numpy as np

__all__ = [
    "code_class_agreement",
    "contingency_table",
    "majority_classes",
    "mutual_information",
    "normalized_mutual_information",
]


def _ids(name, values):
    values = np.asarray(values)
    if values.ndim != 1:
        raise ValueError(f"`{name}` must be a 1-D array of ids. Received shape {values.shape}.")
    if values.size and (not np.issubdtype(values.dtype, np.number)
                        or np.any(values != np.round(values)) or values.min() < 0):
        raise ValueError(f"`{name}` must hold integer ids >= 0.")
    return values.astype(np.int64)


def contingency_table(a, b, num_a=None, num_b=None):
    """The counts `n[i, j]` of examples with `a == i` and `b == j`.

    Args:
        a, b: integer ids >= 0, 1-D, the same length.
        num_a, num_b: the table's shape (None: the largest id + 1).

    Returns:
        An int64 array [num_a, num_b].
    """
    a, b = _ids("a", a), _ids("b", b)
    if a.shape != b.shape:
        raise ValueError(f"`a` and `b` must have the same length. Received {a.size} and {b.size}.")
    num_a = int(a.max(initial=-1)) + 1 if num_a is None else int(num_a)
    num_b = int(b.max(initial=-1)) + 1 if num_b is None else int(num_b)
    if a.size and (a.max() >= num_a or b.max() >= num_b):
        raise ValueError(f"Ids must be below num_a={num_a} and num_b={num_b}.")
    table = np.zeros([num_a, num_b], np.int64)
    np.add.at(table, (a, b), 1)
    return table


def _entropy(counts):
    p = counts[counts > 0] / counts.sum()
    return float(-np.sum(p * np.log(p)))


def mutual_information(table):
    """`I(A; B) = sum_ij p_ij log(p_ij / (p_i. p_.j))` (nats) of a contingency table."""
    n = np.asarray(table, np.float64)
    total = n.sum()
    if total <= 0:
        raise ValueError("The contingency table is empty.")
    p = n / total
    outer = p.sum(axis=1, keepdims=True) * p.sum(axis=0, keepdims=True)
    nonzero = p > 0
    return float(np.sum(p[nonzero] * np.log(p[nonzero] / outer[nonzero])))


def normalized_mutual_information(a, b=None, average="arithmetic"):
    """Normalised mutual information of two labelings (or of a contingency table).

    `NMI = I(A; B) / mean(H(A), H(B))`, in [0, 1]: 0 for independent labelings, 1 when
    each determines the other. `average` picks the mean: "arithmetic" (scikit-learn's
    default), "geometric", "min" or "max". Two constant labelings have NMI 1 (they agree);
    one constant labeling against a varying one has NMI 0.

    Args:
        a: ids [N], or a contingency table [num_a, num_b] when `b` is None.
        b: ids [N], or None.
        average: how the two entropies are averaged.

    Returns:
        A Python float.

    Example:
    >>> normalized_mutual_information([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    """
    table = np.asarray(a) if b is None else contingency_table(a, b)
    if table.ndim != 2:
        raise ValueError(f"A contingency table must be 2-D. Received shape {table.shape}.")
    means = {
        "arithmetic": lambda x, y: (x + y) / 2.0,
        "geometric": lambda x, y: np.sqrt(x * y),
        "min": min,
        "max": max,
    }
    if average not in means:
        raise ValueError(f"`average` must be one of {sorted(means)}. Received: {average!r}")
    h_a, h_b = _entropy(table.sum(axis=1)), _entropy(table.sum(axis=0))
    if h_a == 0.0 and h_b == 0.0:
        return 1.0
    denominator = float(means[average](h_a, h_b))
    if denominator <= 0.0:
        return 0.0
    return float(min(max(mutual_information(table) / denominator, 0.0), 1.0))


def majority_classes(table):
    """The majority class of each code value (each row of the contingency table that has
    examples), as a list; ties go to the lower class id."""
    table = np.asarray(table)
    return [int(np.argmax(row)) for row in table if row.sum() > 0]


def code_class_agreement(codes, classes, num_codes=None, num_classes=None):
    """(NMI, number of distinct majority classes) of a code against classes.

    Args:
        codes: the code value of each example (int ids [N]).
        classes: the class a classifier gives each example (int ids [N]).
        num_codes, num_classes: the table's shape (None: from the ids).

    Returns:
        (float NMI with the arithmetic mean, int number of distinct majority classes over
        the code values present).

    Example:
    >>> code_class_agreement([0, 0, 1, 1, 2, 2], [3, 3, 3, 3, 5, 5])
    (0.733680436651211, 2)
    """
    table = contingency_table(codes, classes, num_codes, num_classes)
    return normalized_mutual_information(table), len(set(majority_classes(table)))
