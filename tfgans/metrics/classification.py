"""The accuracy of a classifier on labelled batches, streaming (the semi-supervised GAN's
discriminator on held-out data, and the supervised baseline it is compared with)."""

import numpy as np

__all__ = ["classifier_accuracy"]


def classifier_accuracy(classify, batches):
    """The fraction of examples whose arg-max class is their label.

    Args:
        classify: a function images -> class logits (or probabilities) [B, K].
        batches: an iterable of `(images, labels)` batches (a `tf.data.Dataset`, a list);
            examples labelled -1 (unlabelled) are skipped.

    Returns:
        `(accuracy, count)`: a float in [0, 1] and the number of labelled examples seen.

    Raises:
        ValueError: a batch without labels, or no labelled example at all.

    Example:
    >>> import numpy as np
    >>> classifier_accuracy(lambda x: x, [(np.eye(3), np.array([0, 2, -1]))])
    (0.5, 2)
    """
    hits = count = 0
    for batch in batches:
        if not isinstance(batch, (tuple, list)) or len(batch) < 2:
            raise ValueError("`classifier_accuracy` needs (images, labels) batches.")
        images, labels = batch[0], np.asarray(batch[1]).reshape(-1)
        predicted = np.argmax(np.asarray(classify(images)), axis=-1).reshape(-1)
        labelled = labels >= 0
        hits += int(np.sum(predicted[labelled] == labels[labelled]))
        count += int(np.sum(labelled))
    if not count:
        raise ValueError("`classifier_accuracy` found no labelled example (label >= 0).")
    return hits / count, count
