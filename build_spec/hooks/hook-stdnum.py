"""PyInstaller hook for python-stdnum, replacing the contrib hook (which bundles every
data file: MAC vendors, IMSI, ISBN ranges ... ~4 MB). FieldCRM validates Chinese credit
codes only (desktop.dedupe.identifiers, stdnum.cn.uscc), which reads no data file."""

datas: list[tuple[str, str]] = []
