"""PyInstaller hook for phonenumbers, replacing the contrib hook (which bundles everything).

FieldCRM parses, validates and formats numbers (desktop.schema, desktop.ui.common.formatting):
that needs the region metadata, which phonenumbers imports lazily by name
(`__import__("region_CN")`), so those modules are listed here. The geocoder, carrier and
time-zone data (~20 MB of sources) are never used and stay out.
"""

from PyInstaller.utils.hooks import collect_submodules

hiddenimports = (collect_submodules("phonenumbers.data")
                 + collect_submodules("phonenumbers.shortdata"))
excludedimports = [
    "phonenumbers.geodata", "phonenumbers.carrierdata", "phonenumbers.tzdata",
    "phonenumbers.geocoder", "phonenumbers.carrier", "phonenumbers.timezone",
]
