# Windows release build: PyInstaller bundle -> smoke test -> Inno Setup installer.
# Run from the repository root in a venv with build_spec\requirements-build.txt installed.
#   powershell -File build_spec\windows\build.ps1 [-TesseractDir build\tesseract]
# Signing (Authenticode) happens only when WINDOWS_CERT_PFX_BASE64 and
# WINDOWS_CERT_PASSWORD are set; the installer is then signed too.
param([string]$TesseractDir = "")
$ErrorActionPreference = "Stop"

if (-not $env:SOURCE_DATE_EPOCH) { $env:SOURCE_DATE_EPOCH = (git log -1 --format=%ct) }
$env:PYTHONHASHSEED = "0"
if ($TesseractDir) { $env:FIELDCRM_TESSERACT_DIR = (Resolve-Path $TesseractDir).Path }

python -m PyInstaller --noconfirm --clean build_spec\fieldcrm.spec
if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed" }

$version = python -c "import tomllib;print(tomllib.load(open('pyproject.toml','rb'))['project']['version'])"
$stamp = [DateTimeOffset]::FromUnixTimeSeconds([int64]$env:SOURCE_DATE_EPOCH).UtcDateTime
$iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe"
if (-not (Test-Path $iscc)) { choco install innosetup -y --no-progress | Out-Host }

$signArgs = @()
if ($env:WINDOWS_CERT_PFX_BASE64 -and $env:WINDOWS_CERT_PASSWORD) {
  $pfx = Join-Path $env:RUNNER_TEMP "fieldcrm.pfx"
  [IO.File]::WriteAllBytes($pfx, [Convert]::FromBase64String($env:WINDOWS_CERT_PFX_BASE64))
  $signtool = (Get-ChildItem "${env:ProgramFiles(x86)}\Windows Kits\10\bin\*\x64\signtool.exe" |
               Sort-Object FullName | Select-Object -Last 1).FullName
  $sign = "`"$signtool`" sign /f `"$pfx`" /p $env:WINDOWS_CERT_PASSWORD /fd sha256 /tr http://timestamp.digicert.com /td sha256"
  foreach ($exe in @("dist\FieldCRM\FieldCRM.exe", "dist\FieldCRM\fieldcrm-cli.exe")) {
    & cmd /c "$sign `"$exe`""
    if ($LASTEXITCODE -ne 0) { throw "signing $exe failed" }
  }
  $signArgs = @("/Sfieldcrm=$sign `$f", "/DSignToolCommand=1")
} else {
  Write-Host "::notice::Windows signing secrets absent: the installer is not signed"
}

& $iscc "/DAppVersion=$version" "/DSourceDir=$PWD\dist\FieldCRM" "/DOutputDir=$PWD\dist" `
  "/DTouchDate=$($stamp.ToString('yyyy-MM-dd'))" "/DTouchTime=$($stamp.ToString('HH:mm:ss'))" `
  @signArgs build_spec\windows\fieldcrm.iss
if ($LASTEXITCODE -ne 0) { throw "Inno Setup failed" }
Get-ChildItem dist\*.exe | Format-Table Name, Length
