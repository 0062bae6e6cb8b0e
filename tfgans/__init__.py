"""tfgans: GANs for TensorFlow and Keras 3.

Example:
```python
import tfgans
gan = tfgans.GAN(generator, discriminator, latent_dim=128)
gan.compile()                      # Wasserstein loss, gradient penalty 10, n_critic 5
gan.fit(dataset, epochs=10)
images = gan.generate(num_samples=64, seed=0)
```
"""

from tfgans import callbacks, export, layers, losses, metrics, models, penalties
from tfgans import inversion, latent, training
from tfgans.training import GAN, NonFiniteLossError, Trainer
from tfgans.estimator import Estimator, GANEstimator

__version__ = "0.1.0"

__all__ = [
    "Estimator",
    "GAN",
    "GANEstimator",
    "NonFiniteLossError",
    "Trainer",
    "callbacks",
    "export",
    "inversion",
    "layers",
    "losses",
    "metrics",
    "models",
    "penalties",
    "training",
]
