"""ESPnet's classification task, imported without what a classification
model never uses.  espnet2.tasks.cls imports, at module level, the text
preprocessor's phonemizers and cleaners (g2p_en, which loads nltk and
inflect, and tacotron_cleaner, which builds an inflect engine), librosa,
and, through the adapters of espnet2.layers.create_adapter_fn,
transformers and s3prl when they are installed: 8 of the 12 s a stage-5
process took to reach its first model call (bench/PROFILE.md).

Of what is left, half is typeguard rewriting each @typechecked function of
ESPnet's modules as they are imported (it parses and compiles their source
to add run-time type checks of their arguments).

So, while ESPnet's modules are imported here:
- @typechecked leaves a function as it is: the checks would look at the
  arguments of models and loaders built from a config that ESPnet wrote
  and trained with, and checked, already;
- DEFERRED modules are stand-ins that import the real module on first use
  (a cleaner or a phoneme tokenizer that is asked for still works);
- HIDDEN modules are reported missing, which create_adapter_fn expects
  (they are optional there); afterwards they import normally, so an SSL
  front-end (s3prl, transformers) is built as usual.  Only ESPnet's
  adapters (use_adapter) would miss them: set ESPNET_UNLEARN_FULL_IMPORTS=1
  for such a model.
Every module of the project that needs ESPnet's task imports it from here."""

import importlib
import importlib.machinery
import importlib.util
import os
import sys
import types
from contextlib import contextmanager

DEFERRED = ("g2p_en", "tacotron_cleaner.cleaners", "librosa")
HIDDEN = ("transformers", "s3prl", "loralib")


class Deferred(types.ModuleType):
    """A module imported on its first attribute (not its dunders: torch and
    inspect look at every module in sys.modules).  It carries the real
    module's spec, found without running it, for importlib.util.find_spec."""

    def __init__(self, name: str):
        super().__init__(name)
        parent, _, last = name.rpartition(".")
        if parent:
            parent_spec = importlib.util.find_spec(parent)
            paths = parent_spec.submodule_search_locations if parent_spec else None
            self.__spec__ = importlib.machinery.PathFinder.find_spec(name, paths) if paths else None
        else:
            self.__spec__ = importlib.util.find_spec(name)

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        real = self.__dict__.get("_real")
        if real is None:
            if sys.modules.get(self.__name__) is self:
                del sys.modules[self.__name__]
            real = importlib.import_module(self.__name__)
            self.__dict__["_real"] = real
        return getattr(real, attr)


@contextmanager
def lean():
    if os.environ.get("ESPNET_UNLEARN_FULL_IMPORTS") == "1":
        yield
        return
    import torch  # noqa: F401  (first: importing it walks sys.modules)

    for name in DEFERRED:
        if name not in sys.modules:
            module = Deferred(name)
            if module.__spec__ is not None:  # not installed: nothing to defer
                sys.modules[name] = module
    hidden = [n for n in HIDDEN if n not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # import raises ImportError
    import typeguard

    typechecked = typeguard.typechecked
    typeguard.typechecked = unchecked
    try:
        yield
    finally:
        typeguard.typechecked = typechecked
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def unchecked(target=None, **kwargs):
    """typeguard.typechecked that changes nothing (bare or with options)."""
    return target if target is not None else (lambda f: f)


with lean():
    from espnet2.tasks.abs_task import scheduler_classes  # noqa: E402
    from espnet2.tasks.cls import CLSTask  # noqa: E402
    # ESPnet's inference class imports espnet2.tasks.cls too: imported on
    # its own it took each decoding job 12 s to start instead of 3.
    from espnet2.bin.cls_inference import Classification  # noqa: E402

__all__ = ["CLSTask", "Classification", "scheduler_classes", "Deferred", "lean"]
