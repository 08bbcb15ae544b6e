"""The LiteLLM callback (integrations/litellm/procurement_callback.py), loaded from its file
as the proxy loads it, with the real litellm package; litellm reads its bundled model cost
map instead of fetching one (the tests run offline)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from tests.billing.conftest import acme_key, clean_usage, gpt4o  # noqa: E402, F401

MODULE = Path(__file__).resolve().parents[2] / "integrations" / "litellm" / "procurement_callback.py"


def load_callback_module():
    if "procurement_callback" in sys.modules:
        return sys.modules["procurement_callback"]
    spec = importlib.util.spec_from_file_location("procurement_callback", MODULE)
    module = importlib.util.module_from_spec(spec)
    sys.modules["procurement_callback"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def callback_module():
    return load_callback_module()


@pytest.fixture
def gateway_token(transactional_db) -> str:
    from customers import services

    _token, value = services.gateway_identity_create(name="litellm")
    return value


@pytest.fixture
def callbacks():
    """Installs callbacks on litellm for one test, then puts back what was there."""
    import litellm

    saved = list(litellm.callbacks)
    installed = []

    def install(callback):
        installed.append(callback)
        litellm.callbacks = [callback]
        return callback

    yield install
    litellm.callbacks = saved
    for callback in installed:
        # litellm copies callbacks into its own lists: take them out, or later tests' calls
        # would reach this test's (closed) callback too
        litellm.logging_callback_manager.remove_callback_from_all_lists(callback)
        callback.close()
