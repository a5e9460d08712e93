"""Versioned model storage, its command line (cli), the promotion rules (rules) and a model's way
into production (candidate: train a candidate, judge it, promote it).

Layout: ``<root>/vX.Y.Z/{<module>.pt, preprocessing.json, metadata.json,
artifacts/<name>.{parquet,json,npz}}`` and ``latest`` beside the versions. One module a job:

- ``store``: :class:`ModelRegistry`, which saves, verifies, reads, loads, promotes and lists;
- ``layout``: file names and version numbering; ``files``: durable and atomic writes, the lock,
  sha256; ``schema``: metadata.json's fields, their validation and its self-digest;
- ``artifacts``: the data-only codec of what is stored beside the weights; ``weights``: state-dict
  files and the rebuilt modules (default builder: the NBAForecaster);
- ``comparison``: two versions side by side, each metric's direction stated in a table;
- ``entities``: what the registry returns; ``errors``: RegistryError, IntegrityError.

Why it is built this way:

- A version is written into a temporary directory inside the root, every file fsynced, then the
  directory is renamed into place, so a version either exists whole or not at all. A save that is
  killed leaves only a ``.tmp-*`` directory, which listings ignore and the next save removes.
- Saves and promotions hold an exclusive ``fcntl.flock`` on ``<root>/.lock``: two processes saving
  at once never take the same version number.
- ``metadata.json`` holds a sha256 of every other file and a sha256 of its own content
  (``metadata_sha256``); loading verifies all of them first and names the file that does not
  match. Reading one artifact (``ModelRegistry.read_artifact``) checks the metadata and that one
  file, without loading or hashing the model.
- ``latest`` is a relative symlink swapped atomically (temporary link + ``os.replace``); where
  symlinks are unavailable a ``LATEST`` pointer file is replaced atomically instead. Only
  ``ModelRegistry.promote`` moves it; a model that fails its checks is kept and marked not promoted.
- A version folder is data, never code, because anyone who can write to the folder could
  otherwise run code in every process that loads a model (and a sha256 in metadata the same
  writer controls proves nothing): weights are ``state_dict`` files read with
  ``torch.load(weights_only=True)``; artifacts are parquet (DataFrames), JSON (dicts, lists) or
  npz read with ``allow_pickle=False`` (arrays), never pickles; the modules are rebuilt by code the
  caller chooses (``load_model(build=...)``), never by a name read from the metadata. Metadata
  that names a builder, or lists a file of another kind, is refused before any file is opened.
- The preprocessing the model needs (vocabulary, normalization statistics, feature order) is
  stored with it, so a loaded model featurizes new games exactly as in training.
- ``format_version`` says which code wrote a version. A version of an older format whose model this
  code would misread (``layout.UNLOADABLE_FORMATS``) is still listed and compared, but loading or
  promoting it is refused with what differs and a request to retrain it.

Command line: ``nba-pipeline registry list|show V|compare A B|promote V``
(``nba_pipeline.commands.registry``; its tables: ``registry.render``).
"""

from nba_pipeline.registry.entities import LoadedModel
from nba_pipeline.registry.errors import RegistryError
from nba_pipeline.registry.store import ModelRegistry

__all__ = ["LoadedModel", "ModelRegistry", "RegistryError"]
