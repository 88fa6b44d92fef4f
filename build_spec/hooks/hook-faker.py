"""PyInstaller hook for faker, replacing the contrib hook (which bundles all ~90 locales).

FieldCRM's demo data uses Faker("zh_CN") and Faker("en_US") only. In a PyInstaller
bundle faker finds its locales by globbing `faker/providers/*/<locale>/__init__.py` on
disk (faker.utils.loading.list_module), so the provider sources are collected as data
too, for the kept locales only. `en` stays because several en_US providers import it,
and so does each provider's `default_locale` (faker falls back to it when a provider has
no zh_CN or en_US version: the bank provider's is en_GB).
"""

import importlib
import pkgutil

from PyInstaller.utils.hooks import collect_data_files, collect_submodules


def _fallback_locales() -> set[str]:
    import faker.providers

    found: set[str] = set()
    for info in pkgutil.iter_modules(faker.providers.__path__):
        module = importlib.import_module(f"faker.providers.{info.name}")
        default = getattr(module, "default_locale", None)
        if default:
            found.add(default)
    return found


KEEP_LOCALES = {"en", "en_US", "zh_CN"} | _fallback_locales()


def _wanted(name: str) -> bool:
    parts = name.split(".")
    # faker.providers, faker.providers.<provider>, faker.providers.<provider>.<locale>[...]
    return len(parts) <= 3 or parts[3] in KEEP_LOCALES


def _wanted_file(src: str) -> bool:
    parts = src.replace("\\", "/").split("/faker/providers/", 1)[-1].split("/")
    return len(parts) <= 2 or parts[1] in KEEP_LOCALES


hiddenimports = collect_submodules("faker.providers", filter=_wanted)
datas = collect_data_files("text_unidecode") + [
    (src, dest) for src, dest in collect_data_files("faker.providers", include_py_files=True)
    if _wanted_file(src) and not src.endswith(".pyc")
]
