"""Import and export (issue 16), without Qt: readers for CSV and XLSX with encoding
detection (`readers`), column mapping from labels and field names (`mapping`), the
import with dry run, duplicate handling and resumable chunks (`importer`), streamed
CSV and XLSX export with the formula guard, the export right and its audit entry
(`exporter`, `rights`), and the list filter both share with the command line (`query`)."""
