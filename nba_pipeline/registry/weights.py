"""Modules as weights: ``<name>.pt`` files holding a plain state dict, written from the caller's
modules and loaded into modules rebuilt by code the caller chooses (``build``, default
:func:`build_nba_forecaster`), never by a name read from the folder. ``torch.load(weights_only=True)``
refuses a file that holds more than tensors. torch is imported lazily: listing, promoting or
reading an artifact never imports it."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from pickle import UnpicklingError
from typing import Any

from nba_pipeline.registry.errors import RegistryError
from nba_pipeline.registry.layout import NAME_RE

Builder = Callable[[dict[str, Any]], Any]


def weights_file(module_name: str) -> str:
    """The relative path of a module's weights: always derived from its name, never read from metadata."""
    return f"{module_name}.pt"


def check_modules(modules: Mapping[str, Any]) -> None:
    """At least one module, each an ``nn.Module`` under a name that can be a file name."""
    import torch

    if not modules:
        raise RegistryError("save_model needs at least one module")
    for name, module in modules.items():
        if not NAME_RE.match(name) or name in ("metadata", "preprocessing"):
            raise RegistryError(f"invalid module name {name!r}")
        if not isinstance(module, torch.nn.Module):
            raise RegistryError(f"module {name!r} is a {type(module).__name__}, not a torch.nn.Module")


def write_weights(path: Path, module: Any) -> dict[str, Any]:
    """Store ``module``'s state dict (on the CPU) durably at ``path``; return its metadata entry."""
    import torch

    state = {k: v.detach().to("cpu").clone() for k, v in module.state_dict().items()}
    with open(path, "wb") as f:
        torch.save(state, f)
        f.flush()
        os.fsync(f.fileno())
    return {
        "class": f"{type(module).__module__}.{type(module).__qualname__}",
        "parameters": int(sum(p.numel() for p in module.parameters())),
        "file": path.name,
    }


def load_weights(path: Path, what: str) -> dict[str, Any]:
    """A ``{name: tensor}`` state dict; anything else in the file is refused, never executed."""
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (UnpicklingError, RuntimeError, ValueError, EOFError) as exc:
        raise RegistryError(
            f"{what} is not a plain weights file (torch.load(weights_only=True) refused it): {exc}"
        ) from exc
    if not isinstance(state, Mapping) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise RegistryError(f"{what} does not hold a state dict of tensors")
    return dict(state)


def rebuild(build: Builder, md: Mapping[str, Any]) -> tuple[dict[str, Any], Any]:
    """``(modules by stored name, top-level model or None)`` from ``build(model_config)``, which
    returns ``{name: nn.Module}`` or one ``nn.Module`` whose attributes named like the stored
    modules are filled (e.g. NBAForecaster.transformer/.gnn/.fusion)."""
    import torch

    name = md["version"]
    built = build(dict(md["model_config"]))
    top = None
    if isinstance(built, torch.nn.Module):
        top = built
        modules = {}
        for mod_name in md["modules"]:
            sub = getattr(top, mod_name, None)
            if not isinstance(sub, torch.nn.Module):
                raise RegistryError(
                    f"{name}: the builder's {type(top).__name__} has no submodule {mod_name!r} "
                    f"to load {mod_name}.pt into"
                )
            modules[mod_name] = sub
    elif isinstance(built, Mapping):
        modules = dict(built)
    else:
        raise RegistryError(f"{name}: builder returned {type(built).__name__}, expected nn.Module or dict")
    if set(modules) != set(md["modules"]):
        raise RegistryError(
            f"{name}: builder made modules {sorted(modules)} but the version stores {sorted(md['modules'])}"
        )
    return modules, top


def fill(modules: Mapping[str, Any], top: Any, vdir: Path, version: str) -> None:
    """Load each module's stored weights exactly (strict) and put everything in eval mode; a
    top-level model must have no weights that no stored file provides."""
    for mod_name, module in modules.items():
        rel = weights_file(mod_name)
        state = load_weights(vdir / rel, f"{version}: file {rel}")
        try:
            module.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise RegistryError(f"{version}: weights in {rel} do not fit the rebuilt module: {exc}") from exc
        module.eval()
    if top is not None:
        covered = {f"{n}.{k}" for n, m in modules.items() for k in m.state_dict()}
        uncovered = sorted(set(top.state_dict()) - covered)
        if uncovered:
            raise RegistryError(
                f"{version}: the rebuilt {type(top).__name__} has weights no stored file provides: "
                f"{uncovered[:5]}{' ...' if len(uncovered) > 5 else ''}"
            )
        top.eval()


def build_nba_forecaster(model_config: Mapping[str, Any]) -> Any:
    """Default builder: ``NBAForecaster(ForecasterConfig.from_dict(model_config))``.

    Save an NBAForecaster with ``modules={"transformer": m.transformer, "gnn": m.gnn, "fusion":
    m.fusion}`` and ``model_config=m.cfg.to_dict()``; ``load_model`` then returns it as ``.model``.
    Imported lazily so listing or promoting versions never imports torch."""
    from nba_pipeline.models.forecaster import ForecasterConfig, NBAForecaster

    return NBAForecaster(ForecasterConfig.from_dict(dict(model_config)))
