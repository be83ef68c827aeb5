"""The YAML front: a config file read, checked and returned as a frozen :class:`Config`.

Modules: ``schema`` (the dataclasses, one per section, and :func:`load_config`), ``yaml_loader`` (safe
YAML, overrides, one generic section loader), ``space`` (the ``search_space:`` section), ``fields``
(each field's rule). Nothing here imports TensorFlow or Keras, so bad input is refused before the slow
import.
"""

from lstm_tuner.config.schema import Config, config_from_dict, config_to_dict, load_config

__all__ = ["Config", "config_from_dict", "config_to_dict", "load_config"]
