# Prepare a self-contained Tesseract folder for the Windows bundle:
#   <Out>\tesseract.exe, its DLLs, tessdata\{eng,chi_sim,osd}.traineddata
# The program comes from the UB Mannheim build (Chocolatey package "tesseract", pinned);
# chi_sim comes from tessdata_fast 4.1.0 and is checked against a pinned SHA-256.
# Then: $env:FIELDCRM_TESSERACT_DIR = <Out>; pyinstaller build_spec\fieldcrm.spec
param(
  [string]$Out = "build\tesseract",
  [string]$ChocoVersion = "5.4.0.20240606"
)
$ErrorActionPreference = "Stop"
. "$PSScriptRoot\..\tessdata.ps1"

choco install tesseract --version $ChocoVersion -y --no-progress | Out-Host
$src = "C:\Program Files\Tesseract-OCR"
if (-not (Test-Path "$src\tesseract.exe")) { throw "Tesseract was not installed to $src" }

New-Item -ItemType Directory -Force -Path "$Out\tessdata" | Out-Null
Copy-Item "$src\tesseract.exe" $Out
Copy-Item "$src\*.dll" $Out
foreach ($lang in @("eng", "osd")) {
  Copy-Item "$src\tessdata\$lang.traineddata" "$Out\tessdata\"
}
Get-Tessdata -Lang "chi_sim" -Dest "$Out\tessdata"
& "$Out\tesseract.exe" --version | Out-Host
$env:TESSDATA_PREFIX = (Resolve-Path "$Out\tessdata").Path
$langs = & "$Out\tesseract.exe" --list-langs
foreach ($lang in @("eng", "chi_sim")) {
  if ($langs -notcontains $lang) { throw "the prepared Tesseract lacks $lang" }
}
Write-Host "Tesseract ready in $Out"
